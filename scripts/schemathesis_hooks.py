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
"""
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


@schemathesis.hook
def filter_case(context, case):
    if _ends_own_sessions(case):
        return False
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return True
    for parameter in case.operation.headers:
        pattern = (parameter.definition.get("schema") or {}).get("pattern")
        value = _header(case.headers, parameter.name)
        if isinstance(pattern, str) and isinstance(value, str) and re.search(pattern, value) is None:
            return False
    return True
