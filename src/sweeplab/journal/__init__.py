"""The journal: one SQLite database that is the truth of every sweep. ``writer`` is its one writer (the
coordinator's), ``reader`` its typed read side, ``schema`` its tables, ``views`` the JSON files regenerated
from it."""
