package io.advspark.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.data.Storage;
import io.advspark.util.Fingerprint;
import io.advspark.util.Messages;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and checks a round's models on the driver, before any image is touched: the card must
 * parse, the TorchScript must load, and a forward pass at the card's input size must return
 * exactly {@code num_classes} columns. A caller's {@link Check} then runs on each loaded model
 * (the attack's model augmentations probe their surrogates there: {@code attack.augment.Augments}).
 * Every message names the file.
 */
public final class ModelLoader {
    private ModelLoader() {}

    /** A further check of a loaded model, run with the model open on a torch thread. */
    @FunctionalInterface
    public interface Check {
        Check NONE = (spec, model, manager) -> {};

        /** Fails with a message naming {@code spec}'s file when the model does not qualify. */
        void check(ModelSource spec, Classifier model, NDManager manager);
    }

    /**
     * The surrogate files a round at {@code precision} runs: a file whose card already says that
     * precision as named, else its export beside it ({@link Precision#variantOf}: {@code x.pt ->
     * x.bf16.pt} with card {@code x.bf16.json}). Refuses, naming the files: a missing export, an
     * export whose card says another precision, a reduced-precision file in an fp32 round, and a
     * checkpoint group at reduced precision. Reads each named card once (small files).
     */
    public static List<ModelSource> atPrecision(List<ModelSource> specs, Precision precision, Storage storage) {
        List<ModelSource> out = new ArrayList<>();
        for (ModelSource s : specs) {
            if (s.group()) {
                if (precision != Precision.FP32) {
                    throw new ConfigException("model " + s.path() + ": advspark.precision = " + precision.label()
                            + " does not apply to a checkpoint group yet; list its " + precision.label()
                            + " exports one by one as surrogates, or run the round at fp32");
                }
                out.add(s);
                continue;
            }
            Precision named = cardPrecision(s, storage);
            if (named == precision) {
                out.add(s);
                continue;
            }
            if (precision == Precision.FP32) {
                throw new ConfigException("model " + s.path() + " is a " + named.label() + " export (its card " + s.card()
                        + " says precision = " + named.label() + ") but the round's advspark.precision is fp32: set"
                        + " advspark.precision = " + named.label() + ", or name the fp32 file");
            }
            ModelSource variant = new ModelSource(precision.variantOf(s.path()), precision.variantOf(s.card()), s.weight(),
                    s.augment(), false);
            List<String> missing = new ArrayList<>();
            try {
                for (String f : List.of(variant.path(), variant.card())) {
                    if (!storage.isFile(f)) {
                        missing.add(f);
                    }
                }
            } catch (IOException e) {
                throw new ConfigException("model " + variant.path() + ": " + e.getMessage(), e);
            }
            if (!missing.isEmpty()) {
                throw new ConfigException("model " + s.path() + ": advspark.precision = " + precision.label()
                        + " runs its " + precision.label() + " export " + variant.path() + " (card " + variant.card()
                        + "), but " + String.join(" and ", missing) + (missing.size() == 1 ? " is" : " are")
                        + " missing; write the export with `python3 tools/export_model.py --source torchscript --model "
                        + s.path() + " --dtype " + precision.label() + " --out <the model's folder>` (docs/exporting.md)");
            }
            Precision found = cardPrecision(variant, storage);
            if (found != precision) {
                throw new ConfigException("model " + variant.path() + ": its card " + variant.card() + " says precision = "
                        + found.label() + ", but it stands where the round (advspark.precision = " + precision.label()
                        + ") looks for the " + precision.label() + " export of " + s.path());
            }
            out.add(variant);
        }
        return out;
    }

    private static Precision cardPrecision(ModelSource s, Storage storage) {
        try {
            return ModelCard.parse(storage.readAll(s.card()), s.card()).precision();
        } catch (IOException e) {
            throw new ConfigException("model card " + s.card() + " (for " + s.path() + "): " + e.getMessage(), e);
        }
    }

    public static List<ModelBundle> load(List<ModelSource> specs, Storage storage, int threads) {
        return load(specs, storage, threads, Check.NONE);
    }

    /** Loads and checks the models, running {@code check} on each after the forward probe. */
    public static List<ModelBundle> load(List<ModelSource> specs, Storage storage, int threads, Check check) {
        TorchRuntime.start(threads);
        return bundles(specs, storage, s -> loadOne(s, storage, check));
    }

    /**
     * The models' bytes and cards as {@link #load} reads them, without starting libtorch or
     * probing them: enough to fingerprint them (a finished round's rerun checks that nothing
     * changed before it starts Spark).
     */
    public static List<ModelBundle> read(List<ModelSource> specs, Storage storage) {
        return bundles(specs, storage, s -> readOne(s, storage));
    }

    private static List<ModelBundle> bundles(List<ModelSource> specs, Storage storage,
            java.util.function.Function<ModelSource, ModelBundle> one) {
        List<ModelBundle> out = new ArrayList<>();
        for (ModelSource s : specs) {
            if (!s.group()) {
                out.add(one.apply(s));
                continue;
            }
            // A checkpoint group: every member loaded and probed like a model of its own, then
            // checked against the first (CheckpointGroup#checkMembers names the file that differs).
            List<ModelBundle> members = new ArrayList<>();
            for (ModelSource m : CheckpointGroup.members(s, storage)) {
                ModelBundle b = one.apply(m);
                members.add(new ModelBundle(b.uri(), b.card(), b.torchScript(), b.weight(), b.augment(), b.cardUri(),
                        b.cardSha256(), s.path()));
            }
            CheckpointGroup.checkMembers(s.path(), members);
            out.addAll(members);
        }
        int classes = out.get(0).card().datasetClasses();
        for (ModelBundle b : out) {
            if (b.card().datasetClasses() != classes) {
                throw new ConfigException(
                        "models disagree on dataset_classes: " + out.get(0).card().name() + " has " + classes + ", "
                                + b.card().name() + " (" + b.uri() + ") has " + b.card().datasetClasses());
            }
        }
        return out;
    }

    static ModelBundle loadOne(ModelSource spec, Storage storage, Check check) {
        ModelBundle bundle = readOne(spec, storage);
        // On a torch worker: in local mode the tasks share this JVM and reuse that thread and its
        // OpenMP team instead of starting another one beside the driver's (see TorchThreads).
        TorchThreads.callUnchecked(() -> {
            probe(spec, bundle.card(), bundle, check);
            return null;
        });
        return bundle;
    }

    private static ModelBundle readOne(ModelSource spec, Storage storage) {
        byte[] cardBytes;
        try {
            cardBytes = storage.readAll(spec.card());
        } catch (IOException e) {
            throw new ConfigException("model card " + spec.card() + " (for " + spec.path() + "): " + e.getMessage(), e);
        }
        ModelCard card;
        try {
            card = ModelCard.parse(cardBytes, spec.card());
        } catch (IOException e) {
            throw new ConfigException(e.getMessage(), e);
        }
        byte[] bytes;
        try {
            bytes = storage.readAll(spec.path());
        } catch (IOException e) {
            throw new ConfigException("model " + spec.path() + ": " + e.getMessage(), e);
        }
        return new ModelBundle(spec.path(), card, bytes, spec.weight(), spec.augment(), spec.card(),
                Fingerprint.sha256(cardBytes));
    }

    /**
     * Reads and checks the purifier of a defense chain's {@code purify} stage, read through storage
     * like a model (any URI). The probe is a batch of two images at the size the purifier will see:
     * {@code sample} (the round's first clean image after the chain's image stages) and seeded
     * uniform noise of that size. The output must have the input's shape and every value in [0,1];
     * every refusal names the file.
     */
    public static PurifierBundle loadPurifier(String uri, Storage storage, io.advspark.data.RgbImage sample) {
        byte[] bytes;
        try {
            bytes = storage.readAll(uri);
        } catch (IOException e) {
            throw new ConfigException("purifier " + uri + ": " + e.getMessage(), e);
        }
        PurifierBundle bundle = new PurifierBundle(uri, bytes, Fingerprint.sha256(bytes));
        TorchThreads.callUnchecked(() -> {
            probePurifier(bundle, sample);
            return null;
        });
        return bundle;
    }

    private static void probePurifier(PurifierBundle bundle, io.advspark.data.RgbImage sample) {
        int h = sample.height();
        int w = sample.width();
        int per = 3 * h * w;
        float[] px = new float[2 * per];
        sample.toUnitFloats(px, 0);
        java.util.Random rnd = new java.util.Random(0x5EED);
        for (int i = per; i < px.length; i++) {
            px[i] = rnd.nextFloat();
        }
        try (Purifier p = Purifier.load(bundle, Device.cpu());
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            NDArray x = m.create(px, new Shape(2, 3, h, w));
            NDArray out;
            try {
                out = p.apply(x);
            } catch (IllegalStateException e) {
                throw new ConfigException(e.getMessage() + " (probed on a [2,3," + h + "," + w + "] input in [0,1])", e);
            }
            float[] y = out.toFloatArray();
            for (int i = 0; i < y.length; i++) {
                if (!(y[i] >= 0f && y[i] <= 1f)) {
                    throw new ConfigException("purifier " + bundle.uri() + " returns values outside [0,1] (e.g. " + y[i]
                            + " at index " + i + " of its output for a [2,3," + h + "," + w + "] input in [0,1]):"
                            + " a purifier must map images in [0,1] to images in [0,1] (clamp its output when exporting it)");
                }
            }
        } catch (IOException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

    /**
     * The module's outputs for one image against the card: output 0 the logits {@code [1,
     * num_classes]}, then one output {@code [1, *shape]} per tap in the card's order; a card
     * without taps needs exactly one output.
     */
    static void checkOutputs(ModelSource spec, ModelCard card, List<Shape> outs) {
        List<ModelCard.Tap> taps = card.taps();
        if (outs.size() != 1 + taps.size()) {
            throw new ConfigException("model " + spec.path() + " returns " + outs.size() + " output(s) "
                    + outs + " but its card " + spec.card() + " lists " + taps.size() + " tap(s) "
                    + taps.stream().map(ModelCard.Tap::name).toList()
                    + ": the file must return the logits followed by one activation per tap (export with "
                    + "tools/export_model.py --taps, which writes both)");
        }
        Shape out = outs.get(0);
        if (out.dimension() != 2 || out.get(0) != 1 || out.get(1) != card.numClasses()) {
            throw new ConfigException(
                    "model " + spec.path() + " returns shape " + out + " but its card " + spec.card()
                            + " says num_classes=" + card.numClasses());
        }
        for (int i = 0; i < taps.size(); i++) {
            ModelCard.Tap t = taps.get(i);
            long[] want = new long[t.shape().length + 1];
            want[0] = 1;
            System.arraycopy(t.shape(), 0, want, 1, t.shape().length);
            if (!outs.get(i + 1).equals(new Shape(want))) {
                throw new ConfigException("model " + spec.path() + " returns " + outs.get(i + 1) + " as output "
                        + (i + 1) + " (tap '" + t.name() + "') for a [1,3," + card.inputHeight() + ","
                        + card.inputWidth() + "] input but its card " + spec.card() + " says the tap's shape is "
                        + java.util.Arrays.toString(t.shape()) + " per image");
            }
        }
    }

    private static void probe(ModelSource spec, ModelCard card, ModelBundle bundle, Check check) {
        try (Classifier c = Classifier.load(bundle);
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            NDArray probe = m.zeros(new Shape(1, 3, card.inputHeight(), card.inputWidth()));
            List<Shape> outs = new ArrayList<>();
            try {
                Autograd.noGrad(() -> {
                    for (NDArray o : c.rawForwardAll(probe, null)) {
                        outs.add(o.getShape());
                    }
                    return null;
                });
            } catch (RuntimeException e) {
                throw new ConfigException(
                        "model " + spec.path() + " fails on a [1,3," + card.inputHeight() + "," + card.inputWidth()
                                + "] input as its card " + spec.card() + " describes: " + Messages.firstLine(e.getMessage()), e);
            }
            checkOutputs(spec, card, outs);
            check.check(spec, c, m);
        } catch (IOException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

}
