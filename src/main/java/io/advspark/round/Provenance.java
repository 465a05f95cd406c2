package io.advspark.round;

import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.util.Fingerprint;
import java.util.ArrayList;
import java.util.List;

/**
 * What an attack's images were made with besides its spec: the surrogates (content of each
 * TorchScript file and card, ensemble weight, augment flag) and the manifest's content. Part of
 * an attack's identity for resume: the attack spec does not name the models or the dataset, so
 * without this a rerun with other models or relabelled images would skip the committed images
 * and mix two ensembles or datasets under one name. Weight and augment are included because they
 * change the ensemble's gradients, hence the written PNGs, as much as another model file does.
 * Computed once on the driver from the bytes it reads for its checks; every record row and the
 * {@code attacks} table carry it as the four columns below.
 */
public record Provenance(List<Surrogate> surrogates, String manifestUri, String manifestSha256)
        implements java.io.Serializable {

    /**
     * One surrogate as the round used it (URIs for messages only: identity is by content).
     * {@code backward} is the backward-pass change its card records ({@code none} for a plain
     * model); a changed one appears in the settings column, so the attacks table says which
     * variant (SGM, LinBP, BPA and their parameters) a round's images were made with. So does
     * {@code precision}, the format its card says its layers compute in.
     */
    public record Surrogate(String modelUri, String modelSha256, String cardUri, String cardSha256, double weight,
            boolean augment, String backward, io.advspark.model.Precision precision) implements java.io.Serializable {
        public Surrogate {
            backward = backward == null || backward.isBlank() ? "none" : backward;
            precision = precision == null ? io.advspark.model.Precision.FP32 : precision;
        }

        /** A float32 surrogate without a backward change. */
        public Surrogate(String modelUri, String modelSha256, String cardUri, String cardSha256, double weight,
                boolean augment) {
            this(modelUri, modelSha256, cardUri, cardSha256, weight, augment, "none", io.advspark.model.Precision.FP32);
        }

        String settings() {
            // Plain fp32 models keep the settings text of rounds written before backward changes
            // and precisions existed, so those rounds still resume.
            return "weight=" + weight + " augment=" + augment + (backward.equals("none") ? "" : " backward=" + backward)
                    + (precision == io.advspark.model.Precision.FP32 ? "" : " precision=" + precision.label());
        }
    }

    public Provenance {
        surrogates = List.copyOf(surrogates);
    }

    /** From the loaded surrogates (configuration order) and the manifest bytes as read. */
    public static Provenance of(List<ModelBundle> bundles, String manifestUri, byte[] manifest) {
        // The effective weights (shares summing to 1, see Ensemble): a round written under the old
        // unnormalised rule records weight=1.0 and so is not resumed under the new one.
        double[] shares = Ensemble.shares(bundles.stream().mapToDouble(ModelBundle::weight).toArray());
        List<Surrogate> s = new ArrayList<>();
        for (int i = 0; i < bundles.size(); i++) {
            ModelBundle b = bundles.get(i);
            s.add(new Surrogate(b.uri(), Fingerprint.sha256(b.torchScript()), b.cardUri(), b.cardSha256(), shares[i],
                    b.augment(), b.card().backward(), b.card().precision()));
        }
        return new Provenance(s, manifestUri, Fingerprint.sha256(manifest));
    }

    private static final String SEP = "; ";

    /** Column {@code model_sha256}: each surrogate's TorchScript SHA-256, configuration order. */
    public String modelSha256() {
        return String.join(SEP, surrogates.stream().map(Surrogate::modelSha256).toList());
    }

    /** Column {@code card_sha256}: each surrogate's card SHA-256, configuration order. */
    public String cardSha256() {
        return String.join(SEP, surrogates.stream().map(Surrogate::cardSha256).toList());
    }

    /**
     * Column {@code precision} of the attacks table: the surrogates' precision ({@code fp32},
     * {@code bf16}, {@code fp16}), or each surrogate's {@code ; }-separated when they differ.
     */
    public String precision() {
        List<String> each = surrogates.stream().map(s -> s.precision().label()).toList();
        return each.stream().distinct().count() <= 1 && !each.isEmpty() ? each.get(0) : String.join(SEP, each);
    }

    /**
     * Column {@code surrogate_settings}: {@code weight=W augment=B} per surrogate, W its share of the
     * ensemble, followed by {@code backward=SPEC} for a surrogate exported with a backward-pass change
     * and by {@code precision=P} for a reduced-precision export.
     */
    public String surrogateSettings() {
        return String.join(SEP, surrogates.stream().map(Surrogate::settings).toList());
    }

    /**
     * What differs between this provenance and the one committed rows carry (their four columns),
     * naming the model file, card or manifest; null when they agree.
     */
    public String changeFrom(String models, String cards, String settings, String manifest) {
        List<String> changes = new ArrayList<>();
        List<String> m = List.of(models.split(SEP, -1));
        List<String> c = List.of(cards.split(SEP, -1));
        List<String> w = List.of(settings.split(SEP, -1));
        if (m.size() != surrogates.size()) {
            changes.add("the committed images were made with " + m.size() + " surrogate(s), the configuration now gives "
                    + surrogates.size() + " " + surrogates.stream().map(Surrogate::modelUri).toList());
        } else {
            for (int i = 0; i < m.size(); i++) {
                Surrogate s = surrogates.get(i);
                String which = "surrogate " + (i + 1) + " (" + s.modelUri() + ")";
                if (!m.get(i).equals(s.modelSha256())) {
                    changes.add("model file " + s.modelUri() + " of surrogate " + (i + 1) + " has other content (sha256 "
                            + abbrev(s.modelSha256()) + ", the committed images were made with " + abbrev(m.get(i)) + ")");
                }
                if (i < c.size() && !c.get(i).equals(s.cardSha256())) {
                    changes.add("model card " + s.cardUri() + " of " + which + " has other content (sha256 "
                            + abbrev(s.cardSha256()) + ", the committed images were made with " + abbrev(c.get(i)) + ")");
                }
                if (i < w.size() && !w.get(i).equals(s.settings())) {
                    changes.add(which + " is now set to " + s.settings() + ", the committed images were made with "
                            + w.get(i));
                }
            }
        }
        if (!manifest.equals(manifestSha256)) {
            changes.add("manifest " + manifestUri + " has other content (sha256 " + abbrev(manifestSha256)
                    + ", the committed images were made with " + abbrev(manifest) + ")");
        }
        return changes.isEmpty() ? null : String.join("; ", changes);
    }

    private static String abbrev(String sha) {
        return sha == null || sha.length() <= 12 ? String.valueOf(sha) : sha.substring(0, 12) + "...";
    }
}
