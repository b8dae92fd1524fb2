"""Why the compiled path leaves a request to the executor."""


class NotPlannable(Exception):
    """The selection (or these arguments) is not one the compiled path answers; the
    normal executor does, with its errors where there are any."""


class ExecutorOnly(NotPlannable):
    """A field declared `executor_only(reason)`: an expected fallback, not a gap."""


class Missing(Exception):
    """A non-null value is not there (a root object, a computed one): the executor
    reports it."""
