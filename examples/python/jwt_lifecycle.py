#!/usr/bin/env python3
"""jwt_lifecycle: the scenario of examples/c/jwt_lifecycle.c with the Python binding: a bearer
token, an API key, then a JWT authentication token generated -> validated -> revoked -> validated ->
reinstated -> validated (IDaaS Developer API).

    python3 jwt_lifecycle.py CONFIG_JSON_PATH [CREDENTIAL_PROVIDER [SUBJECT [AUDIENCE]]]

Defaults match the emulator: partner_jwt, billing-agent, https://api.partner.example; API key of
openai_prod_key (IDAAS_EXAMPLE_API_KEY_ID overrides it). The client secret comes from the
environment variable named in the config (e.g. IDAAS_CLIENT_SECRET). Exit status: 0, 2 (usage), 75
(a failure the library says a retry may fix: EX_TEMPFAIL) or 1 (any other failure).
"""

import os
import sys

import idaas


def main(argv: list) -> int:
    if not argv:
        print("usage: jwt_lifecycle.py CONFIG_JSON_PATH [CREDENTIAL_PROVIDER [SUBJECT [AUDIENCE]]]", file=sys.stderr)
        return 2
    config_path, given = argv[0], argv[1:4]
    defaults = ["partner_jwt", "billing-agent", "https://api.partner.example"]
    provider, subject, audience = given + defaults[len(given) :]
    try:
        with idaas.Client(config_path) as client, client.pam() as pam:
            token = client.bearer_token()
            print(f"bearer token: {token[:16]}... ({len(token)} chars)")

            key_id = os.environ.get("IDAAS_EXAMPLE_API_KEY_ID", "openai_prod_key")
            key = pam.get_api_key(key_id)
            print(f"API key of {key_id}: " + (f"{key[:6]}... ({len(key)} chars)" if key else "(none)"))

            generated = pam.generate_jwt_authentication_token(
                provider,
                subject,
                [audience],
                expiration=900,
                include_derived_short_token=True,
                custom_claims={"tenant": "acme"},
            )
            jwt = generated.jwt_content.jwt_value
            print(f"generated {generated.authentication_token_id} for consumer {generated.consumer_id}")
            for step in ("validate", "revoke", "validate", "reinstate", "validate"):
                if step == "validate":
                    print(f"  valid: {pam.validate_authentication_token(jwt)}")
                elif step == "revoke":
                    pam.revoke_authentication_token(jwt)
                    print("  revoked")
                else:
                    pam.reinstate_authentication_token(jwt)
                    print("  reinstated")
        return 0
    except idaas.IDaaSError as e:
        # Never a secret in an idaas error: safe to print as it is.
        print(f"error ({type(e).__name__}, {e.code_name}): {e}", file=sys.stderr)
        if e.request_id:
            print(f"  request id: {e.request_id}", file=sys.stderr)
        return 75 if e.retryable else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
