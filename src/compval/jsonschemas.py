"""jsonschema, imported without its optional format checkers' start-up cost.

``jsonschema._format`` imports, when installed, a module per optional format checker, only to register the checker:
``rfc3987_syntax`` (installed with ``jsonschema[format-nongpl]``, which Jupyter requires) for ``iri`` and
``iri-reference``, whose import compiles 39 Lark grammars (about 6 s on the 2-core reference machine), and
``isoduration`` (which imports ``arrow``), ``webcolors``, ``uri_template``, ``rfc3986_validator`` and the others
below (together about 0.02 s more, paid by every rule's process). Our schemas use no ``format`` keyword and no
format checker, so the first import of jsonschema here leaves these optional modules out; the block is lifted
straight after, so another caller can still import any of them itself.
"""

from __future__ import annotations

import sys

#: The modules ``jsonschema._format`` imports only to register optional format checkers.
FORMAT_CHECKER_MODULES = (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3986_validator",
    "rfc3339_validator",
    "fqdn",
    "idna",
    "isoduration",
    "jsonpointer",
    "uri_template",
    "webcolors",
)

if "jsonschema" not in sys.modules:
    blocked = [m for m in FORMAT_CHECKER_MODULES if m not in sys.modules]
    for m in blocked:
        sys.modules[m] = None  # type: ignore[assignment]  # makes `import m` an ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        for m in blocked:
            del sys.modules[m]

from jsonschema import Draft202012Validator, validators  # noqa: E402

__all__ = ["Draft202012Validator", "validators"]
