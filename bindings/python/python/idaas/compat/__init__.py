"""idaas.compat: the API of the reference SDKs `cloud-idaas-core` and `cloud-idaas-pam-client`
over idaas, for code written against them. Only the import line changes::

    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient

    IDaaSCredentialProviderFactory.init()
    token = IDaaSCredentialProviderFactory.get_idaas_credential_provider().get_bearer_token()
    api_key = IDaaSPamClient().get_api_key("my-credential")

Every name the reference READMEs import from `cloud_idaas.core`, its submodules
(`constants`, `credential`, `implementation`, `provider`) and `cloud_idaas.pam_client` is here.
Where idaas.compat deliberately behaves differently from the references (tokens refreshed ahead
of expiry and never served past it, PKCS#1 keys, configured timeouts applied, ...), see
COMPAT.md of the Python binding.
"""

from .core import (
    ConfigPathConstants,
    ErrorCode,
    IDaaSCredential,
    IDaaSCredentialProvider,
    IDaaSCredentialProviderFactory,
    IDaaSMachineCredentialProvider,
    IDaaSMachineTokenExchangeCredentialProvider,
    IDaaSTokenExchangeCredentialProvider,
    IDaaSTokenResponse,
    OAuth2Constants,
    StaticIDaaSCredentialProvider,
    StaticIDaaSCredentialProviderBuilder,
)
from .exceptions import (
    CacheException,
    ClientException,
    ConcurrentOperationException,
    ConfigException,
    CredentialException,
    EncodingException,
    HttpException,
    IDaaSException,
    IDaaSUnexpectedException,
    ServerException,
)
from .pam_client import (
    AuthenticationToken,
    IDaaSPamClient,
    IDaaSPamClientBuilder,
    JwtContent,
    JwtTokenResponse,
    NextTokenPageableResponse,
    OAuthAccessTokenContent,
    OAuthAuthenticationTokenResponse,
    OAuthAuthorizationSession,
    OAuthAuthorizationSessionResponse,
    PamClientConstants,
)

__all__ = [
    # core
    "IDaaSCredentialProviderFactory",
    "IDaaSCredential",
    "IDaaSTokenResponse",
    "IDaaSCredentialProvider",
    "IDaaSTokenExchangeCredentialProvider",
    "IDaaSMachineCredentialProvider",
    "IDaaSMachineTokenExchangeCredentialProvider",
    "StaticIDaaSCredentialProvider",
    "StaticIDaaSCredentialProviderBuilder",
    "OAuth2Constants",
    "ConfigPathConstants",
    "ErrorCode",
    # exceptions
    "IDaaSException",
    "ClientException",
    "ServerException",
    "ConfigException",
    "CacheException",
    "ConcurrentOperationException",
    "CredentialException",
    "EncodingException",
    "HttpException",
    "IDaaSUnexpectedException",
    # pam client
    "IDaaSPamClient",
    "IDaaSPamClientBuilder",
    "PamClientConstants",
    "AuthenticationToken",
    "JwtContent",
    "JwtTokenResponse",
    "NextTokenPageableResponse",
    "OAuthAccessTokenContent",
    "OAuthAuthenticationTokenResponse",
    "OAuthAuthorizationSession",
    "OAuthAuthorizationSessionResponse",
]
