"""``python -m sheep_xl.acceptance``: the same as ``sheep-xl excel-check``."""

from sheep_xl.acceptance.runner import main

if __name__ == "__main__":  # importing the module (e.g. to list the package) runs nothing
    raise SystemExit(main())
