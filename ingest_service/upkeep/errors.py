"""The one error of the upkeep and lifecycle operations: what cannot be done, and what to do."""


class LifecycleError(Exception):
    """A lifecycle request that cannot be carried out; the message says what to do."""
