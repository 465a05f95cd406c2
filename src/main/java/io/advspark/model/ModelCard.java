package io.advspark.model;

import io.advspark.util.Messages;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The preprocessing contract of a TorchScript classifier (format: shared/models/README.md). The
 * model itself takes already resized and normalised input; the card says how.
 *
 * @param name model name
 * @param inputHeight input rows the model expects
 * @param inputWidth input columns
 * @param mean per-channel RGB mean on the [0,1] scale
 * @param std per-channel RGB std on the [0,1] scale
 * @param numClasses output columns
 * @param datasetClasses real dataset classes (1000 for ImageNet, 10 for CIFAR-10)
 * @param labelOffset output column of dataset class 0 (1 for TF-slim 1001-class models)
 * @param interpolation resize method ({@code bilinear}: half-pixel centres, no antialiasing)
 * @param dataset which dataset's labels the outputs refer to
 * @param taps the intermediate activations the TorchScript returns after the logits, in order
 *     (field {@code taps}: {@code [{"name", "shape"}]}, shape per image, e.g. {@code [C, H, W]});
 *     empty for a plain model, whose file returns the logits tensor alone
 * @param backward the backward-pass change baked into the file at export (field {@code backward},
 *     e.g. {@code sgm(gamma=0.2)}; {@code none} when absent): recorded in a round's provenance
 * @param precision the format the model's layers compute in (field {@code precision}: {@code fp32},
 *     the default, {@code bf16} or {@code fp16}; see {@link Precision}): a reduced-precision
 *     export still takes float32 input and returns float32 logits
 */
public record ModelCard(
        String name,
        int inputHeight,
        int inputWidth,
        float[] mean,
        float[] std,
        int numClasses,
        int datasetClasses,
        int labelOffset,
        String interpolation,
        String dataset,
        List<Tap> taps,
        String backward,
        Precision precision)
        implements java.io.Serializable {

    /**
     * One feature tap: the output of submodule {@code name} (as in the exporter's
     * {@code model.named_modules()}), returned by the TorchScript as output {@code 1 + index} with
     * shape {@code [N, *shape]}.
     */
    public record Tap(String name, long[] shape) implements java.io.Serializable {
        public Tap {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tap t && name.equals(t.name) && java.util.Arrays.equals(shape, t.shape);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + java.util.Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + java.util.Arrays.toString(shape);
        }
    }

    public ModelCard {
        taps = List.copyOf(taps);
        backward = backward == null || backward.isBlank() ? "none" : backward;
        precision = precision == null ? Precision.FP32 : precision;
    }

    /** A float32 card with taps and a backward change. */
    public ModelCard(String name, int inputHeight, int inputWidth, float[] mean, float[] std, int numClasses,
            int datasetClasses, int labelOffset, String interpolation, String dataset, List<Tap> taps, String backward) {
        this(name, inputHeight, inputWidth, mean, std, numClasses, datasetClasses, labelOffset, interpolation, dataset,
                taps, backward, Precision.FP32);
    }

    /** A plain model: no taps, no backward change. */
    public ModelCard(String name, int inputHeight, int inputWidth, float[] mean, float[] std, int numClasses,
            int datasetClasses, int labelOffset, String interpolation, String dataset) {
        this(name, inputHeight, inputWidth, mean, std, numClasses, datasetClasses, labelOffset, interpolation, dataset,
                List.of(), "none", Precision.FP32);
    }

    /** The tap's position among the taps, or -1. */
    public int tapIndex(String tapName) {
        for (int i = 0; i < taps.size(); i++) {
            if (taps.get(i).name().equals(tapName)) {
                return i;
            }
        }
        return -1;
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Parses and validates a card; every message names {@code source} and the field. */
    public static ModelCard parse(byte[] json, String source) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (IOException e) {
            throw new IOException("model card " + source + ": not valid JSON: " + Messages.firstLine(e.getMessage()), e);
        }
        if (n == null || !n.isObject()) {
            throw new IOException("model card " + source + ": expected a JSON object");
        }
        String format = optText(n, "format", "torchscript");
        if (!format.equals("torchscript")) {
            throw new IOException("model card " + source + ": field 'format' is '" + format + "', expected 'torchscript'");
        }
        String name = text(n, "name", source);
        int[] size = ints(n, "input_size", 2, source);
        float[] mean = floats(n, "mean", 3, source);
        float[] std = floats(n, "std", 3, source);
        for (float s : std) {
            if (!(s > 0)) {
                throw new IOException("model card " + source + ": field 'std' must be positive, got " + s);
            }
        }
        int numClasses = integer(n, "num_classes", source);
        int datasetClasses = n.has("dataset_classes") ? integer(n, "dataset_classes", source) : numClasses;
        int offset = n.has("label_offset") ? integer(n, "label_offset", source) : 0;
        if (numClasses < 2 || datasetClasses < 2 || offset < 0 || offset + datasetClasses > numClasses) {
            throw new IOException(
                    "model card " + source + ": fields 'num_classes' (" + numClasses + "), 'dataset_classes' ("
                            + datasetClasses + ") and 'label_offset' (" + offset
                            + ") are inconsistent: need label_offset + dataset_classes <= num_classes");
        }
        if (size[0] < 1 || size[1] < 1) {
            throw new IOException("model card " + source + ": field 'input_size' must be positive");
        }
        String interp = optText(n, "interpolation", "bilinear");
        if (!interp.equals("bilinear")) {
            throw new IOException(
                    "model card " + source + ": field 'interpolation' is '" + interp + "'; only 'bilinear' is supported");
        }
        String p = optText(n, "precision", "fp32");
        Precision precision = Precision.parse(p);
        if (precision == null) {
            throw new IOException("model card " + source + ": field 'precision' is '" + p
                    + "', expected fp32, bf16 or fp16 (the format the exported model's layers compute in)");
        }
        return new ModelCard(
                name, size[0], size[1], mean, std, numClasses, datasetClasses, offset, interp,
                optText(n, "dataset", ""), taps(n, source), optText(n, "backward", "none"), precision);
    }

    private static List<Tap> taps(JsonNode n, String source) throws IOException {
        JsonNode v = n.get("taps");
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new IOException("model card " + source + ": field 'taps' must be an array of {\"name\", \"shape\"}");
        }
        List<Tap> out = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode t = v.get(i);
            String where = "model card " + source + ": taps[" + i + "]";
            if (!t.isObject() || !t.path("name").isTextual() || t.path("name").asText().isEmpty()
                    || !t.path("shape").isArray() || t.path("shape").isEmpty()) {
                throw new IOException(where + " must be {\"name\": \"...\", \"shape\": [d1, ...]}, got " + t);
            }
            long[] shape = new long[t.get("shape").size()];
            for (int j = 0; j < shape.length; j++) {
                JsonNode d = t.get("shape").get(j);
                if (!d.isIntegralNumber() || d.asLong() < 1) {
                    throw new IOException(where + ": shape must hold positive integers, got " + t.get("shape"));
                }
                shape[j] = d.asLong();
            }
            String name = t.get("name").asText();
            if (!seen.add(name)) {
                throw new IOException(where + ": tap '" + name + "' is listed twice");
            }
            out.add(new Tap(name, shape));
        }
        return out;
    }

    private static JsonNode field(JsonNode n, String f, String source) throws IOException {
        JsonNode v = n.get(f);
        if (v == null || v.isNull()) {
            throw new IOException("model card " + source + ": missing field '" + f + "'");
        }
        return v;
    }

    private static String text(JsonNode n, String f, String source) throws IOException {
        JsonNode v = field(n, f, source);
        if (!v.isTextual()) {
            throw new IOException("model card " + source + ": field '" + f + "' must be a string");
        }
        return v.asText();
    }

    private static String optText(JsonNode n, String f, String dflt) {
        JsonNode v = n.get(f);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static int integer(JsonNode n, String f, String source) throws IOException {
        JsonNode v = field(n, f, source);
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IOException("model card " + source + ": field '" + f + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static int[] ints(JsonNode n, String f, int len, String source) throws IOException {
        JsonNode v = field(n, f, source);
        if (!v.isArray() || v.size() != len) {
            throw new IOException("model card " + source + ": field '" + f + "' must be an array of " + len + " integers");
        }
        int[] out = new int[len];
        for (int i = 0; i < len; i++) {
            if (!v.get(i).isIntegralNumber()) {
                throw new IOException("model card " + source + ": field '" + f + "' must hold integers, got " + v);
            }
            out[i] = v.get(i).asInt();
        }
        return out;
    }

    private static float[] floats(JsonNode n, String f, int len, String source) throws IOException {
        JsonNode v = field(n, f, source);
        if (!v.isArray() || v.size() != len) {
            throw new IOException("model card " + source + ": field '" + f + "' must be an array of " + len + " numbers");
        }
        float[] out = new float[len];
        for (int i = 0; i < len; i++) {
            if (!v.get(i).isNumber()) {
                throw new IOException("model card " + source + ": field '" + f + "' must hold numbers, got " + v);
            }
            out[i] = (float) v.get(i).asDouble();
        }
        return out;
    }


    @Override
    public boolean equals(Object o) {
        return o instanceof ModelCard c && name.equals(c.name) && inputHeight == c.inputHeight
                && inputWidth == c.inputWidth && java.util.Arrays.equals(mean, c.mean)
                && java.util.Arrays.equals(std, c.std) && numClasses == c.numClasses
                && datasetClasses == c.datasetClasses && labelOffset == c.labelOffset && taps.equals(c.taps)
                && backward.equals(c.backward) && precision == c.precision;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(name, inputHeight, inputWidth, numClasses, datasetClasses, labelOffset, taps,
                backward, precision);
    }
}
