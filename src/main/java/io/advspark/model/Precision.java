package io.advspark.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The floating-point format a surrogate computes in ({@code advspark.precision}, a card's
 * {@code precision} field). Only the model's own layers change: a reduced-precision export takes
 * float32 input and returns float32 logits (the cast sits inside the file, at the model's
 * boundary), so resize, normalisation, the loss, the gradient once it leaves the model, the
 * momentum, the projection and the quantisation stay float32 whatever the precision.
 *
 * <p>Why exported files and not a conversion at load time: DJL 0.36's JNI has no
 * {@code Module::to(dtype)}, and rewriting a TorchScript archive's pickled storages in the JVM
 * would tie advspark to one serialisation version. {@code tools/export_model.py --dtype bf16}
 * converts once, checks the result against the float32 model and writes a card that says so.
 */
public enum Precision {
    FP32("fp32"),
    BF16("bf16"),
    FP16("fp16");

    private final String label;

    Precision(String label) {
        this.label = label;
    }

    /** The name in configuration, cards and tables. */
    public String label() {
        return label;
    }

    /** {@code fp32 | bf16 | fp16}; null for anything else. */
    public static Precision parse(String s) {
        if (s == null) {
            return null;
        }
        for (Precision p : values()) {
            if (p.label.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        return null;
    }

    /**
     * Where the {@code this}-precision export of a file sits: {@code x.pt -> x.bf16.pt},
     * {@code x.json -> x.bf16.json} (the exporter's naming); the file itself for fp32.
     */
    public String variantOf(String uri) {
        if (this == FP32) {
            return uri;
        }
        int slash = uri.lastIndexOf('/');
        int dot = uri.lastIndexOf('.');
        return dot > slash + 1 ? uri.substring(0, dot) + "." + label + uri.substring(dot) : uri + "." + label;
    }

    /**
     * Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX, from {@code /proc/cpuinfo});
     * null when that cannot be told (not Linux). Without them oneDNN emulates bf16, slower than fp32.
     */
    public static Boolean cpuHasBf16() {
        Path info = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(info)) {
            return null;
        }
        try (var lines = Files.lines(info)) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> l.contains(" avx512_bf16") || l.contains(" amx_bf16")).orElse(null);
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }
}
