"""compval: validation of competency models from questionnaire data.

One module per stage: :mod:`io`, :mod:`codebook`, :mod:`clean` (with :mod:`careless`, :mod:`missingness`),
:mod:`scoring`, :mod:`descriptives`, :mod:`reliability`, :mod:`efa`, :mod:`cfa`, :mod:`validity`,
:mod:`criterion`, :mod:`figures`, :mod:`report`; :mod:`simulate` draws the demo data.
"""

__version__ = "0.1.0"
