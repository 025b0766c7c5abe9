"""``python -m compval.simulate``: see :func:`compval.simulate.cli.main`."""

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
