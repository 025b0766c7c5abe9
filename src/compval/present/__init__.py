"""Presentation of the results: APA tables, publication figures and the HTML report.

* :mod:`compval.present.rules` - every cut-off and verdict (Hu & Bentler, Chen, HTMT, CR/AVE, Fornell-Larcker,
  reliability, KMO, congruence), written once;
* :mod:`compval.present.formatting` - APA numbers, display labels and the small tidy-table helpers the tables,
  figures and report share;
* :mod:`compval.present.tables` - APA tables (:class:`~compval.present.apa.ApaTable` and its builders);
* :mod:`compval.present.figures` - publication figures (matplotlib, Graphviz);
* :mod:`compval.present.html` - the self-contained HTML report and the power section.

The package itself imports nothing, so that importing one of its modules (e.g. the rules) loads only that
module and what it needs.
"""
