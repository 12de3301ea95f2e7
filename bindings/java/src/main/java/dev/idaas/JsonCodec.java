package dev.idaas;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The JSON of the ABI, with Gson: result documents (the library's JSON) into the generated records,
 * options documents out of maps. Strict parsing (the library writes RFC 8259 JSON); no HTML escaping
 * (the library reads the text as it is); records are built through their canonical constructors only.
 */
final class JsonCodec {
    private JsonCodec() {}

    /** Results and the credential JSON: absent optional members are left out, never written as null. */
    private static final Gson GSON = new GsonBuilder()
            .setStrictness(Strictness.STRICT)
            .disableHtmlEscaping()
            .disableJdkUnsafe()
            .create();
    /** Options documents: nulls are kept (a custom claim may be null); the options classes omit unset keys. */
    private static final Gson OPTIONS = GSON.newBuilder().serializeNulls().create();

    /**
     * Parses a library-owned UTF-8 result into {@code type} and wipes the array (results may hold
     * secrets). Null for null (an optional result). A document that does not fit is a library bug:
     * {@link IdaasInternalException}, whose message names the type only (the text may hold a secret).
     */
    static <T> T result(byte[] utf8, Class<T> type) {
        if (utf8 == null) return null;
        try (Reader r = new InputStreamReader(new ByteArrayInputStream(utf8), StandardCharsets.UTF_8)) {
            T value = GSON.fromJson(r, type);
            if (value == null) throw new JsonParseException("null document");
            return value;
        } catch (JsonParseException | IOException | IllegalArgumentException e) {
            throw IdaasException.internal("the library returned JSON that is not a " + type.getSimpleName());
        } finally {
            Arrays.fill(utf8, (byte) 0);
        }
    }

    /** The credential JSON of {@code idaas_provider_new_from_credential_json}. */
    static String credential(Credential c) {
        return GSON.toJson(c);
    }

    /** An options (or argument) document: maps, lists, strings, numbers, booleans, null. */
    static String write(Object value) {
        return OPTIONS.toJson(value);
    }
}
