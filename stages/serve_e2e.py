"""serve_e2e: boot the server and send real requests (built in issue #6).

Not built yet: an honest placeholder that writes `status: not_implemented` and no numbers,
so every claim reading this stage's metrics is reported *not run*.
"""

from stages.common import write_not_implemented


def main() -> None:
    write_not_implemented("serve_e2e")


if __name__ == "__main__":
    main()
