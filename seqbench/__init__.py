"""seqbench: HMMs, autoregressive models and recurrent networks behind one
scikit-learn interface, and a benchmark runner that compares them."""

__version__ = "0.1.0"
