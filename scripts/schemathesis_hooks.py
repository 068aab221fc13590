"""Schemathesis hooks for `npm run test:schemathesis` (scripts/schemathesis.sh loads this via SCHEMATHESIS_HOOKS).

Why: schemathesis's coverage phase builds header values from ASCII letters and digits only
(HEADER_ALLOWED_CHARS in schemathesis/specs/openapi/coverage/_wire.py, 4.32.5). A header whose `pattern`
needs another character, as every RFC 9110 entity tag does (`"..."` or `*`), gets no valid value there; the
phase then seeds it with a value that breaks the pattern (e.g. `If-None-Match: 0`) and still labels the
"all required properties and optional <header>" case positive, so the API's 400 for it is reported as
"schema-valid request rejected" (ST202). Such a case is not schema-valid: this hook drops a positive case whose
header values break their parameter's declared pattern, and nothing else. Negative cases are kept whole.

It also keeps the run's own account usable: a platform admin may set any user's password and disable any user,
and both end that user's sessions (contract), so a fuzzed `PUT /users/{userId}/password` or a `PATCH` to
`disabled` aimed at the admin running the fuzz would end its session and leave every later case a 401 that
tests nothing. Cases aimed that way are dropped (ARBOR_FUZZ_ACCOUNT_ID names the account).

And a positive case of an AuthZEN search (`/access/v1/search/...`) that sends `page.token` is dropped: a token is
valid only as the `next_token` the server issued for that very search (an HMAC tag over the request), so one
the fuzzer makes up is refused with 400 however well it matches the declared pattern, as the contract says
(section 9.1). Random strings that break the pattern stay in the run as negative cases. (The API's list
cursors are the same kind; schemathesis.toml allows their 400 per operation, which predates this hook.)

Last, an AuthZEN `context.min_position` beyond the end of the log is a 400 by contract (section 9): which
positions exist depends on the log, not on the schema, and the fuzzer's log is short. That one answer, and only
it (every field error a min_position beyond the log's end), is not reported as "schema-valid request rejected";
the case still runs every other check.
"""
import json
import os
import re

import schemathesis
from schemathesis import GenerationMode


def _header(headers, name):
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _ends_own_sessions(case):
    account = os.environ.get("ARBOR_FUZZ_ACCOUNT_ID")
    path = case.operation.path
    user_id = (case.path_parameters or {}).get("userId")
    by_id = account is not None and user_id == account
    # PUT /users/me/password needs the current password, which the fuzzer never has: it stays in the run.
    if case.method.upper() == "PUT" and path == "/api/v1/users/{userId}/password":
        return by_id
    own = by_id or path == "/api/v1/users/me"
    return own and case.method.upper() == "PATCH" and isinstance(case.body, dict) and case.body.get("status") == "disabled"


def _sends_search_token(case):
    if not case.operation.path.startswith("/access/v1/search/") or not isinstance(case.body, dict):
        return False
    page = case.body.get("page")
    return isinstance(page, dict) and "token" in page


@schemathesis.hook
def filter_case(context, case):
    if _ends_own_sessions(case):
        return False
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return True
    if _sends_search_token(case):
        return False
    for parameter in case.operation.headers:
        pattern = (parameter.definition.get("schema") or {}).get("pattern")
        value = _header(case.headers, parameter.name)
        if isinstance(pattern, str) and isinstance(value, str) and re.search(pattern, value) is None:
            return False
    return True


BEYOND_LOG = "must not exceed the log's last position"


def _min_position_beyond_log(response):
    if response.status_code != 400:
        return False
    try:
        errors = json.loads(response.content).get("errors") or []
    except (ValueError, AttributeError):
        return False
    return len(errors) > 0 and all(
        e.get("path", "").endswith("/context/min_position") and e.get("message", "").startswith(BEYOND_LOG)
        for e in errors
    )


@schemathesis.hook
def filter_failure(context, failure, case, response):
    return not (failure.code == "ST202" and _min_position_beyond_log(response))
