"""Type-checked by `mypy --strict` in `make test` (never run): the public API as a user types it."""
import asyncio
import idaas
import idaas.aio

def main() -> None:
    with idaas.Client("x.json") as c:
        t: str = c.bearer_token()
        cred: idaas.Credential = c.credential("a|b")
        exp: int = cred.expires_at
        with c.pam(api_key_cache=idaas.ApiKeyCacheOptions(ttl=60)) as p:
            k: "str | None" = p.get_api_key("id")
            for tok in p.list_all_authentication_tokens("c", "p"):
                print(tok.authentication_token_id, t, exp, k)
    try:
        pass
    except idaas.TimeoutError as e:
        print(e.http_status, e.request_id, e.retryable, e.server_code)

async def amain() -> str:
    async with idaas.aio.AsyncClient() as a:
        return await a.bearer_token()
