import idaas
from conftest import API_KEY


def test_token_and_api_key(client, pam):
    t = client.bearer_token()
    assert t and client.bearer_token() is not None
    assert pam.get_api_key("openai_prod_key") == API_KEY
