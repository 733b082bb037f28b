"""migcheck: policy-as-code migration checks for HP vPars and Integrity VM estates."""

__version__ = "0.1.0"
