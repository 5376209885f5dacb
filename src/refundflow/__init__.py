"""refundflow: a self-hosted refund and returns desk for online merchants."""

__version__ = "0.1.0"
