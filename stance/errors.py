"""The one exception family that entry points turn into a one-line message and exit code 2."""


class StanceError(Exception):
    """A problem with the user's input or configuration, explained in one line."""


class DataError(StanceError):
    """A data file or data config that cannot be used."""


class ConfigError(StanceError):
    """A config value that cannot work, named by its key."""
