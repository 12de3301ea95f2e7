//! Result objects of the Developer API operations (pam.md §5).
//!
//! Every type deserializes leniently from the wire (unknown fields ignored, missing fields → `None`,
//! pam.md §2.5) and serializes back with the **wire** (camelCase) field names, so the CLI and the C ABI
//! can hand them out as JSON. Secrets (`jwtValue`, `derivedShortToken`, `accessTokenValue`) are
//! [`SecretString`]s: `Debug` prints `** redacted **`, while `Serialize` writes the value (it is the
//! payload the caller asked for). Times are integer milliseconds since the Unix epoch. The operations
//! check the secrets' character sets before returning them (`jwtValue` a compact JWT, `apiKey` and
//! `derivedShortToken` visible ASCII, `accessTokenValue` an RFC 6750 b64token; SECURITY.md "Server
//! text"); the other fields are returned as sent (the CLI escapes them when it prints them).

use crate::secret::SecretString;
use serde::{Deserialize, Serialize};

use crate::secret::secret_serde;

/// The JWT material of a JWT authentication token (`jwtContent`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct JwtContent {
    /// The JWT (secret).
    #[serde(with = "secret_serde")]
    #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("x-secret" = true)))]
    pub jwt_value: SecretString,
    /// The derived short token, when one was requested (secret; as powerful as the JWT).
    #[serde(with = "secret_serde::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "json-schema",
        schemars(with = "Option<String>", extend("x-secret" = true))
    )]
    pub derived_short_token: Option<SecretString>,
}

/// Reply of `GenerateJwtAuthenticationToken` (pam.md §4.6; §5 `JwtTokenResponse`, plus the other
/// reply fields, which the references drop).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct JwtTokenResponse {
    /// `instanceId`.
    pub instance_id: Option<String>,
    /// `authenticationTokenId` (`atntkn_…`).
    pub authentication_token_id: Option<String>,
    /// `authenticationTokenType` (always `jwt`).
    pub authentication_token_type: Option<String>,
    /// `credentialProviderId` (`atp_…`).
    pub credential_provider_id: Option<String>,
    /// `consumerType` (`application` | `custom`).
    pub consumer_type: Option<String>,
    /// `consumerId`.
    pub consumer_id: Option<String>,
    /// `creatorType`.
    pub creator_type: Option<String>,
    /// `creatorId`.
    pub creator_id: Option<String>,
    /// `revoked`.
    pub revoked: Option<bool>,
    /// `createTime` (ms).
    pub create_time: Option<i64>,
    /// `updateTime` (ms).
    pub update_time: Option<i64>,
    /// `expirationTime` (ms).
    pub expiration_time: Option<i64>,
    /// `jwtContent` — always present in a value returned by the client (a reply without it is an
    /// [`crate::ErrorKind::UnexpectedResponse`] error).
    pub jwt_content: JwtContent,
}

/// One authentication token as listed by `ListAuthenticationTokens` (no token material).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct AuthenticationToken {
    /// `instanceId`.
    pub instance_id: Option<String>,
    /// `authenticationTokenId`.
    pub authentication_token_id: Option<String>,
    /// `authenticationTokenType` (`jwt` | `oauth_access_token`).
    pub authentication_token_type: Option<String>,
    /// `credentialProviderId`.
    pub credential_provider_id: Option<String>,
    /// `creatorType`.
    pub creator_type: Option<String>,
    /// `creatorId`.
    pub creator_id: Option<String>,
    /// `consumerType`.
    pub consumer_type: Option<String>,
    /// `consumerId`.
    pub consumer_id: Option<String>,
    /// `revoked`.
    pub revoked: Option<bool>,
    /// `createTime` (ms).
    pub create_time: Option<i64>,
    /// `updateTime` (ms).
    pub update_time: Option<i64>,
    /// `expirationTime` (ms).
    pub expiration_time: Option<i64>,
}

/// One page of a cursor-paged list (pam.md §4.9).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(
    feature = "json-schema",
    schemars(
        rename = "AuthenticationTokenPage",
        bound = "T: schemars::JsonSchema + Default"
    )
)]
pub struct NextTokenPageableResponse<T> {
    /// The page's items (never null; a missing `entities` is an empty list).
    pub entities: Vec<T>,
    /// `totalCount`.
    pub total_count: Option<u64>,
    /// `maxResults`.
    pub max_results: Option<u64>,
    /// `nextToken`: the cursor of the next page. Decision D-31: absent or empty means "last page".
    pub next_token: Option<String>,
}

impl<T> NextTokenPageableResponse<T> {
    /// The cursor of the next page, or `None` on the last page (absent or empty `nextToken`, D-31).
    pub fn next_page_token(&self) -> Option<&str> {
        self.next_token.as_deref().filter(|t| !t.is_empty())
    }
}

/// An OAuth access token held by IDaaS (`oauthAccessTokenContent`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct OAuthAccessTokenContent {
    /// `accessTokenValue`: the OAuth access token (secret).
    #[serde(with = "secret_serde")]
    #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("x-secret" = true)))]
    pub access_token_value: SecretString,
    /// `tokenType` (usually `Bearer`).
    pub token_type: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
}

/// A pending user authorization (`oauthAuthorizationSession`, 3LO).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct OAuthAuthorizationSession {
    /// `sessionId`.
    pub session_id: Option<String>,
    /// `sessionUri` (`urn:ietf:params:oauth:request_uri:<sessionId>`).
    pub session_uri: Option<String>,
    /// `authorizationUrl`: the URL to show the user.
    pub authorization_url: Option<String>,
    /// `sessionStatus` (`pending` at this point).
    pub session_status: Option<String>,
}

/// Reply of `FetchOAuthAuthenticationToken` (pam.md §4.3, §5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct OAuthAuthenticationTokenResponse {
    /// `instanceId`.
    pub instance_id: Option<String>,
    /// `authenticationTokenId`.
    pub authentication_token_id: Option<String>,
    /// `credentialProviderId`.
    pub credential_provider_id: Option<String>,
    /// `authenticationTokenType` (`oauth_access_token`).
    pub authentication_token_type: Option<String>,
    /// `revoked`.
    pub revoked: Option<bool>,
    /// `creatorType`.
    pub creator_type: Option<String>,
    /// `creatorId`.
    pub creator_id: Option<String>,
    /// `consumerType`.
    pub consumer_type: Option<String>,
    /// `consumerId`.
    pub consumer_id: Option<String>,
    /// `createTime` (ms).
    pub create_time: Option<i64>,
    /// `updateTime` (ms).
    pub update_time: Option<i64>,
    /// `expirationTime` (ms).
    pub expiration_time: Option<i64>,
    /// The access token, when one is available.
    pub oauth_access_token_content: Option<OAuthAccessTokenContent>,
    /// The authorization session, when the user must authorize first (3LO).
    pub oauth_authorization_session: Option<OAuthAuthorizationSession>,
}

impl OAuthAuthenticationTokenResponse {
    /// True when the reply carries an access token.
    pub fn has_oauth_access_token_content(&self) -> bool {
        self.oauth_access_token_content.is_some()
    }

    /// True when the reply carries an authorization session (user authorization needed).
    pub fn has_oauth_authorization_session(&self) -> bool {
        self.oauth_authorization_session.is_some()
    }
}

/// Reply of `GetOAuthAuthorizationSession` (pam.md §4.4, §5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct OAuthAuthorizationSessionResponse {
    /// `instanceId`.
    pub instance_id: Option<String>,
    /// `sessionId`.
    pub session_id: Option<String>,
    /// `sessionUri`.
    pub session_uri: Option<String>,
    /// `sessionStatus`: `pending`, `callback_received`, `completed`, `failed`, `expired`.
    pub session_status: Option<String>,
    /// `credentialProviderIdentifier`.
    pub credential_provider_identifier: Option<String>,
    /// `consumerType`.
    pub consumer_type: Option<String>,
    /// `consumerId`.
    pub consumer_id: Option<String>,
    /// `creatorType`.
    pub creator_type: Option<String>,
    /// `creatorId`.
    pub creator_id: Option<String>,
    /// `authorizationUrl` (while pending).
    pub authorization_url: Option<String>,
    /// `expirationTime` (ms).
    pub expiration_time: Option<i64>,
    /// `authenticationTokenId` (when completed).
    pub authentication_token_id: Option<String>,
    /// `errorCode` (when failed).
    pub error_code: Option<String>,
    /// `errorDescription` (when failed).
    pub error_description: Option<String>,
}

/// `credentialContent.apiKeyContent` of an `ObtainCredential` reply.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ApiKeyContent {
    #[serde(with = "secret_serde::option")]
    pub api_key: Option<SecretString>,
}

/// `credentialContent` of an `ObtainCredential` reply (the OAuth-client content is not read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct CredentialContent {
    pub api_key_content: Option<ApiKeyContent>,
}

/// The part of an `ObtainCredential` reply the client reads.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ObtainCredentialReply {
    pub credential_type: Option<String>,
    pub credential_content: Option<CredentialContent>,
}

/// Reply of `ValidateAuthenticationToken`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ValidateReply {
    pub active: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_redacted_in_debug_but_serialized() {
        let r: JwtTokenResponse = serde_json::from_str(
            r#"{"authenticationTokenId":"atntkn_1","jwtContent":{"jwtValue":"eyJ.secret.x","derivedShortToken":"dst_1"},"unknown":1}"#,
        )
        .unwrap();
        let dbg = format!("{r:?}");
        assert!(
            !dbg.contains("eyJ.secret.x") && !dbg.contains("dst_1"),
            "{dbg}"
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""jwtValue":"eyJ.secret.x""#), "{json}");
        assert!(json.contains(r#""derivedShortToken":"dst_1""#), "{json}");
        assert!(
            json.contains(r#""authenticationTokenId":"atntkn_1""#),
            "{json}"
        );
    }

    #[test]
    fn last_page_convention() {
        let p: NextTokenPageableResponse<AuthenticationToken> =
            serde_json::from_str(r#"{"nextToken":""}"#).unwrap();
        assert!(p.entities.is_empty());
        assert_eq!(p.next_page_token(), None);
        let p: NextTokenPageableResponse<AuthenticationToken> =
            serde_json::from_str(r#"{"entities":[{"revoked":true}],"nextToken":"n2"}"#).unwrap();
        assert_eq!(p.next_page_token(), Some("n2"));
        assert_eq!(p.entities[0].revoked, Some(true));
    }
}
