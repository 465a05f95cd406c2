package io.advspark.vocabulary;

/**
 * The kinds of vocabulary a round names by spec. Each kind has its own name space (a filter and an
 * init may both be called {@code gaussian}), its own words for messages and the reference page
 * that documents it.
 */
public enum Kind {
    UPDATE("update rule", "part", "advspark.attack.update", "attack-parts.md", false),
    LOSS("loss", "part", "advspark.attack.loss", "attack-parts.md", false),
    INIT("init", "part", "advspark.attack.init", "attack-parts.md", false),
    INPUT("input transform", "part", "advspark.attack.input", "attack-parts.md", false),
    GRADIENT("gradient transform", "part", "advspark.attack.gradient", "attack-parts.md", false),
    FILTER("perturbation filter", "part", "advspark.attack.filter", "attack-parts.md", false),
    AUGMENT("model augmentation", "part", "advspark.attack.augment", "attack-parts.md", false),
    ENSEMBLE("ensemble mode", "mode", "advspark.attack.ensemble", "attack-parts.md", false),
    DEFENSE("defense", "defense", "advspark.models[].defenses", "defenses.md", true),
    SCORE("score", "score", "advspark.evaluate.score", "scores.md", false);

    private final String label;
    private final String noun;
    private final String key;
    private final String page;
    private final boolean positional;

    Kind(String label, String noun, String key, String page, boolean positional) {
        this.label = label;
        this.noun = noun;
        this.key = key;
        this.page = page;
        this.positional = positional;
    }

    /** What messages call a spec of this kind, e.g. {@code update rule 'mii': ...}. */
    public String label() {
        return label;
    }

    /** What messages call an unknown name, e.g. {@code unknown part 'mii'}. */
    public String noun() {
        return noun;
    }

    /** The configuration key that takes specs of this kind. */
    public String key() {
        return key;
    }

    /** The generated reference page (under docs/) that lists this kind. */
    public String page() {
        return page;
    }

    /**
     * Whether a single unnamed value binds to the entry's first parameter ({@code jpeg(75)} for
     * {@code jpeg(quality=75)}); only defenses, whose chains were written that way from the start.
     */
    public boolean positional() {
        return positional;
    }
}
