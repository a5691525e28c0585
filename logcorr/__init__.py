"""logcorr: what broke in a CMS / Skype for Business presentation share, from a bundle of logs and captures."""

__version__ = "0.1.0"
