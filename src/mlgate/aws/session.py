"""The AWS session of one run: boto3 clients created on first use (standard credential chain, `--profile`,
Region), read-only by construction, retried with backoff, every answer cached for the run, and every botocore
failure turned into an `AwsProblem` whose message says what went wrong and what to do.

Read-only twice over: `call` refuses any operation that is not in `mlgate.aws.operations`, and a botocore
`before-call` hook on every client refuses any operation that is not a Describe, Get, List or Head, whatever code
path sends it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mlgate import __version__
from mlgate.aws.operations import BY_NAME, is_read_only

if TYPE_CHECKING:
    from mlgate.aws import AwsSettings

Kind = Literal["credentials", "region", "denied", "throttled", "not-found", "unreachable", "service"]

POLICY_HINT = "`mlgate aws-policy` prints the read-only policy mlgate needs"
CHAIN = ("the standard chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, ~/.aws, SSO, "
         "web identity, the container or instance role")

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
           "UnauthorizedAccess", "403", "Forbidden"}
_REJECTED = {"InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException",
             "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "RequestExpired",
             "InvalidSignatureException"}
_THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
              "TooManyRequestsException", "SlowDown", "RequestThrottled", "RequestThrottledException",
              "ProvisionedThroughputExceededException", "BandwidthLimitExceeded", "429"}
_NOT_FOUND = {"NoSuchEntity", "NoSuchKey", "NoSuchVersion", "NoSuchBucket", "ResourceNotFound",
              "ResourceNotFoundException", "NotFound", "404"}
_MISSING_TEXT = re.compile(r"could not find|does not exist|not found", re.IGNORECASE)


class AwsProblem(Exception):
    """A call that could not be answered, as a person reads it. `kind` lets a check tell "the thing does not
    exist" (a finding about the deployment) from "mlgate could not look" (an `error`)."""

    def __init__(self, kind: Kind, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


def _attempts(response: dict[str, Any]) -> int:
    return int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1


def _service_text(message: str, status: int | None) -> str:
    text = " ".join(message.split())
    if not text or text.startswith("<"):  # an HTML error page (a proxy, an emulator)
        return f"HTTP {status}" if status else "no message"
    return text if len(text) <= 300 else text[:297] + "..."


def translate(exc: Exception, service: str, operation: str, target: str) -> AwsProblem:
    """`exc` (raised by boto3 or botocore for `service`:`operation` on `target`) as an AwsProblem."""
    from botocore import exceptions as bx

    action = f"{service}:{operation}"
    if isinstance(exc, bx.ProfileNotFound):
        return AwsProblem("credentials", f"AWS profile '{exc.kwargs.get('profile')}' is not in ~/.aws/config or "
                                         "~/.aws/credentials: pass an existing --profile, or none to use "
                                         "the standard chain")
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return AwsProblem("credentials", f"no AWS credentials were found in {CHAIN}, so nothing was checked in "
                                         "the account; set a profile (--profile) or credentials and run again")
    if isinstance(exc, bx.SSOError | bx.TokenRetrievalError | bx.CredentialRetrievalError):
        return AwsProblem("credentials", f"the AWS credentials could not be loaded: {exc} (an expired SSO "
                                         "session? `aws sso login` renews it)")
    if isinstance(exc, bx.NoRegionError):
        return AwsProblem("region", f"no AWS Region to send {action} to: set serving.region in the spec, pass "
                                    "--region, or set AWS_REGION")
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError
                  | bx.ConnectionClosedError):
        return AwsProblem("unreachable", f"could not reach AWS for {action} on {target}: {exc}")
    if isinstance(exc, bx.ClientError):
        response: dict[str, Any] = exc.response
        error = response.get("Error", {})
        code = str(error.get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = _service_text(str(error.get("Message", "")), status)
        tries = _attempts(response)
        if code in _DENIED or status == 403:
            return AwsProblem("denied", f"access denied to {action} on {target}: the AWS identity may not read it "
                                        f"({POLICY_HINT})", code=code)
        if code in _REJECTED:
            return AwsProblem("credentials", f"AWS rejected the credentials for {action} ({code}: {message}): "
                                             "they are wrong or expired; renew them and run again", code=code)
        if code in _THROTTLED or status == 429:
            return AwsProblem("throttled", f"AWS throttled {action} on {target} ({code}) and it still failed after "
                                           f"{tries} attempts with backoff; run again later, or allow more attempts "
                                           "with AWS_MAX_ATTEMPTS", code=code)
        if code in _NOT_FOUND or status == 404 or (code == "ValidationException" and _MISSING_TEXT.search(message)):
            return AwsProblem("not-found", f"{target} does not exist ({action}: {message})", code=code)
        if status is not None and status >= 500:
            said = "" if code in ("", str(status)) else f" ({code}: {message})"
            return AwsProblem("service", f"AWS failed to answer {action} on {target}: HTTP {status}{said}, "
                                         f"after {tries} attempts with backoff", code=code)
        return AwsProblem("service", f"AWS refused {action} on {target}: {code}: {message}", code=code)
    return AwsProblem("service", f"{action} on {target} failed: {type(exc).__name__}: {exc}")


def _refuse_writes(model: Any, **_: Any) -> None:
    """botocore `before-call` hook: nothing but a read leaves this process."""
    if not is_read_only(model.name):
        raise RuntimeError(f"mlgate sends read-only calls only, and {model.name} is not one")


@dataclass
class Session:
    """The AWS side of one run. `call` is the only way a check reaches AWS."""

    settings: AwsSettings
    _sessions: dict[str, Any] = field(default_factory=dict)
    _clients: dict[tuple[str, str | None], Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)
    _fatal: AwsProblem | None = None  # no credentials, no such profile: every later call would fail alike
    sent: list[str] = field(default_factory=list)  # operations sent, in order

    def _boto_session(self) -> Any:
        if "default" not in self._sessions:
            import boto3

            try:
                self._sessions["default"] = boto3.Session(profile_name=self.settings.profile)
            except Exception as exc:  # ProfileNotFound and kin, translated below
                problem = translate(exc, "sts", "GetCallerIdentity", "the session")
                self._fatal = problem
                raise problem from None
        return self._sessions["default"]

    def client(self, service: str, region: str | None) -> Any:
        key = (service, region)
        if key not in self._clients:
            from botocore.config import Config

            config = Config(retries={"mode": "standard"}, user_agent_extra=f"mlgate/{__version__}",
                            connect_timeout=10, read_timeout=30)
            client = self._boto_session().client(service, region_name=region or self.settings.region,
                                                 config=config)
            client.meta.events.register("before-call.*.*", _refuse_writes)
            self._clients[key] = client
        return self._clients[key]

    def region(self, spec_region: str | None) -> str | None:
        """The Region for a spec: the one it states, else --region, else the profile's or AWS_REGION."""
        return spec_region or self.settings.region

    def call(self, service: str, operation: str, *, region: str | None = None, target: str = "",
             **params: Any) -> dict[str, Any]:
        """The answer to one read-only operation (cached for the run). Raises AwsProblem."""
        if (service, operation) not in BY_NAME or not is_read_only(operation):
            raise RuntimeError(f"{service}:{operation} is not one of mlgate's read-only operations")
        if self._fatal is not None:
            raise self._fatal
        key = json.dumps([service, region, operation, params], sort_keys=True, default=str)
        if key in self._cache:
            cached = self._cache[key]
            if isinstance(cached, AwsProblem):
                raise cached
            return dict(cached)
        from botocore import exceptions as bx
        from botocore import xform_name

        try:
            client = self.client(service, region)
            self.sent.append(f"{service}:{operation}")
            answer: dict[str, Any] = getattr(client, xform_name(operation))(**params)
        except AwsProblem:
            raise
        except (bx.BotoCoreError, bx.ClientError) as exc:
            problem = translate(exc, service, operation, target or operation)
            if problem.kind in ("credentials", "region"):
                self._fatal = problem
            self._cache[key] = problem
            raise problem from None
        self._cache[key] = answer
        return dict(answer)

    def pages(self, service: str, operation: str, key: str, *, region: str | None = None, target: str = "",
              limit: int = 50, **params: Any) -> list[Any]:
        """Every item under `key` of a paginated List operation (NextToken or Marker), at most `limit` pages."""
        items: list[Any] = []
        token: dict[str, Any] = {}
        for _ in range(limit):
            answer = self.call(service, operation, region=region, target=target, **params, **token)
            items.extend(answer.get(key) or [])
            if answer.get("NextToken"):
                token = {"NextToken": answer["NextToken"]}
            elif answer.get("IsTruncated") and answer.get("Marker"):
                token = {"Marker": answer["Marker"]}
            else:
                break
        return items

    def account(self) -> str | None:
        """The account id the credentials belong to."""
        answer = self.call("sts", "GetCallerIdentity", region=self.settings.region, target="the credentials")
        account = answer.get("Account")
        return str(account) if account else None
