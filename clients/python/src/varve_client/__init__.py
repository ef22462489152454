"""A Python client for `varve serve`: the JSON API as typed calls, and varve:// paths for fsspec."""

from .client import Client, VarveError
from .lock import read_lock, write_pin

__all__ = ["Client", "VarveError", "read_lock", "write_pin"]
__version__ = "0.1.0"
