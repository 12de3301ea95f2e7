package dev.idaas;

/** The {@code authorization_flow} of {@link PamClient#fetchOAuthTokenV2}. */
public enum AuthorizationFlow {
    /** 2LO: machine-to-machine. */
    M2M("m2m"),
    /** 3LO: on behalf of a user (may need user authorization). */
    USER_FEDERATION("user_federation");

    private final String wire;

    AuthorizationFlow(String wire) {
        this.wire = wire;
    }

    /** The ABI value ({@code "m2m"}, {@code "user_federation"}). */
    public String wireName() {
        return wire;
    }
}
