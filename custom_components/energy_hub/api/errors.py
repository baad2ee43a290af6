"""Errors raised by every Energy Hub API client."""


class ApiError(Exception):
    """Base class: the vendor could not give us what we asked for."""


class ApiConnectionError(ApiError):
    """The service could not be reached, timed out or failed on its side (5xx, HTML pages)."""


class ApiRateLimitedError(ApiConnectionError):
    """The service asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep the delay the service asked for, in seconds, if it gave one."""
        super().__init__(message)
        self.retry_after = retry_after


class ApiAuthError(ApiError):
    """The credentials were rejected."""


class ApiNotFoundError(ApiError):
    """The thing asked for does not exist (HTTP 404, unknown postcode, unknown account)."""


class ApiResponseError(ApiError):
    """The service answered with something we cannot read (bad JSON, unexpected shape, 4xx)."""


class ApiClientOutdatedError(ApiError):
    """The service refuses this client's version ("app version is low"): no password helps,
    only an update of Energy Hub."""
