"""DVC stage entry points: one thin script per stage, run as ``python -m stages <name>``
(``__main__.py`` sets the pinned numeric path of ``numeric_path.py`` first)."""
