package dev.idaas;

/** The JNI entry points (bindings/java/src/main/c/idaas_jni.c). Handles are native pointers. */
final class Native {
    private Native() {}

    static {
        NativeLoader.load();
    }

    /** Forces the class (and the library) to load. */
    static void init() {}

    static native byte[] version();
    static native byte[] codeName(int code);
    static native int codeClass(int code);
    static native void debugPanic();
    static native void logSetCallback(int maxLevel);

    static native long cancelNew();
    static native void cancelCancel(long h);
    static native boolean cancelIsCancelled(long h);
    static native void cancelFree(long h);

    static native long configLoad(String pathOrNull);
    static native long configFromJson(String json);
    static native void configAddPlugin(long h, String name, Object plugin);
    static native void configSetLogger(long h, Object loggerOrNull, int maxLevel);
    static native void configFree(long h);

    static native long clientNew(long config, String optionsJson);
    static native void clientFree(long h);
    static native int clientGetTokenInto(long h, String scope, byte[] buf);
    static native long clientGetProvider(long h, String scope);
    static native long clientGetExchangeProvider(long h, String scope);
    static native byte[] clientExchangeToken(long h, String subjectToken, String subjectTokenType,
                                             String requestedTokenType, String scope);

    static native long providerNewStatic(String token, long expiresAtEpochSecs);
    static native long providerNewFromCredentialJson(String json);
    static native int providerGetTokenInto(long h, byte[] buf);
    static native void providerFree(long h);
    static native byte[] exchangeProviderExchange(long h, String subjectToken, String subjectTokenType,
                                                  String requestedTokenType);
    static native void exchangeProviderFree(long h);

    static native long pamNew(long client, long provider, String optionsJson);
    static native void pamFree(long h);
    static native byte[] pamGetApiKey(long h, String credentialIdentifier);
    static native void pamInvalidateApiKey(long h, String credentialIdentifier);
    static native byte[] pamFetchOAuthToken(long h, String providerId, String scope);
    static native byte[] pamFetchOAuthTokenV2(long h, String providerId, String flow, String optionsJson);
    static native byte[] pamGetOAuthSession(long h, String sessionUri);
    static native byte[] pamPollOAuthToken(long h, String providerId, String optionsJson, Object onUrl, long cancel);
    static native byte[] pamGenerateJwt(long h, String providerId, String subject, String audiencesJson,
                                        String optionsJson);
    static native byte[] pamObtainJwt(long h, String consumerId, String tokenId);
    static native byte[] pamObtainJwtByShortToken(long h, String shortToken);
    static native byte[] pamListTokens(long h, String consumerId, String providerId, String optionsJson);
    static native boolean pamValidateToken(long h, String token, String hint);
    static native void pamRevokeOrReinstate(long h, int op, String a, String b);
}
