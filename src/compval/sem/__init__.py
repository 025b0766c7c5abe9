"""The estimator behind :mod:`compval.cfa` (lavaan-compatible ML/MLR/FIML and WLSMV for measurement models),
one job per module as lavaan's ``R/lav_*.R``:

- model: :mod:`.partable` (syntax -> parameter table), :mod:`.model` (matrices, implied moments, derivatives);
- data: :mod:`.data` (preparation and the checks before estimation), :mod:`.samplestats` (moments, missing-data
  patterns, EM), :mod:`.ordinal` (thresholds, polychorics, Gamma);
- estimation: :mod:`.engine` (ML/FIML), :mod:`.dwls` (DWLS), driven by :mod:`.mlfit` and :mod:`.dwlsfit`, whose
  result parts :mod:`.result` assembles; :mod:`.h1` (the saturated model), :mod:`.vcov` (standard errors, sandwich);
- fit: :mod:`.fitmeasures`, :mod:`.fitmeasures_dwls`, :mod:`.fitindices` (formulas), :mod:`.baseline`,
  :mod:`.fiml_corrected`, :mod:`.teststat` (scaled tests); :mod:`.params` (parameter table, admissibility);
- after the fit: :mod:`.compare` (LRT, DIFFTEST), :mod:`.invariance`, :mod:`.modindices`, :mod:`.predict`.
"""
