"""jsonschema, imported without its 6-second start-up cost.

``jsonschema._format`` imports ``rfc3987_syntax`` (installed with ``jsonschema[format-nongpl]``, which Jupyter
requires) only to register the ``iri``/``iri-reference`` format checkers, and that import compiles 39 Lark grammars:
about 6 s on the 2-core reference machine, paid by every rule's process and by every Snakemake start (the
Snakefile validates the config). Our schemas use no ``format`` keyword and no format checker, so the first import
of jsonschema here leaves that optional module out; the block is lifted straight after, so another caller can
still import ``rfc3987_syntax`` itself.
"""

from __future__ import annotations

import sys

if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes `import rfc3987_syntax` an ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]

from jsonschema import Draft202012Validator, validators  # noqa: E402

__all__ = ["Draft202012Validator", "validators"]
