"""Recorded outcomes of real models on real questions, and what turns them into evidence.

- ``table``     the tidy long table (one row per question × model) and its schema
- ``convert``   a source file's layout → the tidy table
- ``listing``   the data folder's README table (files, sources, licences, sha256)
- ``checksum``  sha256 of a file, the one digest every artifact check uses
- ``splits``    seeded train/validation/test assignment, disjoint by question
- ``matrix``    the question × worker view eval and training read (``Outcomes``)
- ``card``      the data card
- ``build``     all of the above, for the fetch stage
- ``graders``   answer graders (numeric, exact)
- ``sources``   where full-profile artifacts come from (hub, URL, local path)

Import what you need from its module: this package imports nothing on its own, so reading a
checksum never loads pandas.
"""
