"""Estimator internals for :mod:`compval.cfa` (lavaan-compatible ML/FIML for measurement models)."""
