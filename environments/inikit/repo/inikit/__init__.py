"""inikit: read and write INI files."""

from inikit.config import Config, Section
from inikit.errors import ParseError
from inikit.io import dump, dumps, load, loads

__all__ = ["Config", "Section", "ParseError", "load", "loads", "dump", "dumps"]
__version__ = "0.4.1"
