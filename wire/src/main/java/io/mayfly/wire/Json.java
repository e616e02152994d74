package io.mayfly.wire;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.stream.Collectors;

/**
 * The one JSON mapper every part of Mayfly uses, so the wire format is defined in one place, with the limits every
 * JSON text read must keep. A field Mayfly does not know is ignored (a newer CLI or agent may send more); a field of
 * the wrong type, a fraction where a whole number belongs, or an empty string where a number belongs is refused.
 */
public final class Json {
    /**
     * The longest string in any JSON Mayfly reads, in characters. The longest legitimate ones: a build's provenance
     * (a few hundred KiB on a builder with thousands of packages), a manifest (at most 64 KiB), a console chunk (64
     * KiB), a boot argument with its {@code {config.K}} placeholders filled (64 KiB), a config value (32 KiB).
     */
    public static final int MAX_STRING = 1024 * 1024;
    /** Mayfly's messages nest a handful of levels (a status, its reports, their phases); webhooks a few more. */
    public static final int MAX_DEPTH = 64;
    /** Digits of a number: a long has 19; a double as Jackson writes it about 24. */
    public static final int MAX_NUMBER = 64;
    /** A field or map key: config var names are at most 128 characters, package and tool names shorter. */
    public static final int MAX_NAME = 1024;

    public static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength(MAX_STRING)
                            .maxNestingDepth(MAX_DEPTH)
                            .maxNumberLength(MAX_NUMBER)
                            .maxNameLength(MAX_NAME)
                            .build())
                    .build())
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .withCoercionConfig(
                    LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
            .withCoercionConfig(
                    LogicalType.Float, c -> c.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
            .withCoercionConfig(
                    LogicalType.Boolean, c -> c.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
            .build();

    /** Request bodies: as {@link #MAPPER}, and a null inside a list or map is refused rather than handed on. */
    private static final ObjectMapper BODIES =
            MAPPER.copy().setDefaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL));

    private Json() {}

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot write JSON for " + value.getClass().getSimpleName(), e);
        }
    }

    public static String pretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot write JSON for " + value.getClass().getSimpleName(), e);
        }
    }

    /** Reads {@code json} as a {@code type}, or throws IllegalArgumentException saying where and what is wrong. */
    public static <T> T read(String json, Class<T> type) {
        return read(MAPPER, json, type);
    }

    /**
     * Reads a request body someone sent: as {@link #read}, and also refused when it is {@code null} or has a null
     * inside a list or map. The message says what is wrong and where, for a 400 answer.
     */
    public static <T> T readBody(String json, Class<T> type) {
        return read(BODIES, json, type);
    }

    private static <T> T read(ObjectMapper mapper, String json, Class<T> type) {
        if (json == null)
            throw new IllegalArgumentException("no JSON for " + type.getSimpleName() + ": the body is empty");
        T value;
        try {
            value = mapper.readValue(json, type);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(problem(type.getSimpleName(), e), e);
        }
        if (value == null)
            throw new IllegalArgumentException(
                    "not valid JSON for " + type.getSimpleName() + ": expected an object, got null");
        return value;
    }

    /** "not valid JSON for Rollback at line 1, column 13 (version): ..." without Jackson's class names and source excerpt. */
    private static String problem(String what, JacksonException e) {
        StringBuilder out = new StringBuilder("not valid JSON for ").append(what);
        if (e.getLocation() != null && e.getLocation().getLineNr() > 0) {
            out.append(" at line ")
                    .append(e.getLocation().getLineNr())
                    .append(", column ")
                    .append(e.getLocation().getColumnNr());
        }
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            out.append(" (")
                    .append(m.getPath().stream()
                            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                            .collect(Collectors.joining(".")))
                    .append(")");
        }
        String message = String.valueOf(e.getOriginalMessage());
        if (message.length() > 300) message = message.substring(0, 300) + "...";
        out.append(": ");
        // Jackson quotes what it read: a newline in it must not become a new line of a terminal or log.
        message.chars()
                .forEach(c ->
                        out.append(Character.isISOControl(c) ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return out.toString();
    }
}
