package io.advspark.plan;

import io.advspark.model.ModelSource;
import io.advspark.plan.ModelSpec;
import io.advspark.round.RoundLayout;
import io.advspark.score.Scoring;
import java.util.List;
import java.util.Map;

/**
 * Everything one attack round needs, validated. Built by {@link ConfigLoader}.
 *
 * @param roundId outputs go to {@code <output>/<roundId>/}
 * @param output output root URI
 * @param dataset the images
 * @param models surrogates, targets and validation models
 * @param attacks the attack configurations, in configuration order (at least one; names unique)
 * @param batchSize images per attack batch
 * @param device {@code cpu} or {@code gpu} (the GPU Spark assigns each task)
 * @param threads libtorch intra-op threads per JVM, 0 for DJL's default
 * @param sparkMaster master used when the launcher gets none
 * @param sparkAppName application name
 * @param sparkConf extra Spark properties
 * @param score the competition score of {@code advspark evaluate} ({@code evaluate.score})
 * @param leaseSeconds time to live of the round's writer lease ({@code round.lease-seconds})
 * @param maxRows the most rows one surrogate forward takes ({@code max-rows}): a batch's copies,
 *     transformed copies and sampled points are cut into micro-batches of at most this many rows;
 *     a memory setting, results do not depend on it
 * @param memory the memory check before work starts ({@code memory.*}, see {@link MemoryEstimate})
 * @param precision the format the surrogates compute in ({@code precision}); targets and validation
 *     models run as their files are
 */
public record RoundConfig(
        String roundId,
        String output,
        DatasetConfig dataset,
        List<ModelSpec> models,
        List<NamedAttack> attacks,
        int batchSize,
        String device,
        int threads,
        String sparkMaster,
        String sparkAppName,
        Map<String, String> sparkConf,
        Scoring score,
        int leaseSeconds,
        int maxRows,
        MemorySettings memory,
        io.advspark.model.Precision precision)
        implements java.io.Serializable {

    public RoundConfig {
        if (maxRows < 1) {
            throw new IllegalArgumentException("max-rows must be >= 1, got " + maxRows);
        }
        models = List.copyOf(models);
        attacks = List.copyOf(attacks);
        if (attacks.isEmpty()) {
            throw new IllegalArgumentException("a round needs at least one attack configuration");
        }
        sparkConf = Map.copyOf(sparkConf);
        if (memory == null) {
            memory = MemorySettings.DEFAULT;
        }
        if (precision == null) {
            precision = io.advspark.model.Precision.FP32;
        }
    }

    /** A round of one attack, named {@value #DEFAULT_ATTACK}, with the default score ({@code tianchi2019}). */
    public RoundConfig(String roundId, String output, DatasetConfig dataset, List<ModelSpec> models, AttackConfig attack,
            int batchSize, String device, int threads, String sparkMaster, String sparkAppName, Map<String, String> sparkConf) {
        this(roundId, output, dataset, models, List.of(new NamedAttack(DEFAULT_ATTACK, attack)), batchSize, device, threads,
                sparkMaster, sparkAppName, sparkConf, Scoring.parse("tianchi2019(eps=32)"), DEFAULT_LEASE_SECONDS,
                DEFAULT_MAX_ROWS, MemorySettings.DEFAULT, io.advspark.model.Precision.FP32);
    }

    /** Default of {@code max-rows}. */
    public static final int DEFAULT_MAX_ROWS = 64;

    /** Default of {@code round.lease-seconds}. */
    public static final int DEFAULT_LEASE_SECONDS = 60;

    /** Name of the attack of a round that sets {@code advspark.attack} only (default of {@code attack.name}). */
    public static final String DEFAULT_ATTACK = "main";

    /** The first attack configuration: the only one of a single-attack round. */
    public AttackConfig attack() {
        return attacks.get(0).config();
    }

    /** This round with other attack configurations. */
    public RoundConfig withAttacks(List<NamedAttack> other) {
        return new RoundConfig(roundId, output, dataset, models, other, batchSize, device, threads, sparkMaster,
                sparkAppName, sparkConf, score, leaseSeconds, maxRows, memory, precision);
    }

    /** This round with another libtorch thread count. */
    public RoundConfig withThreads(int n) {
        return new RoundConfig(roundId, output, dataset, models, attacks, batchSize, device, n, sparkMaster,
                sparkAppName, sparkConf, score, leaseSeconds, maxRows, memory, precision);
    }

    /** The held-out target models (role = target), in configuration order. */
    public List<ModelSpec> targets() {
        return models.stream().filter(m -> m.role() == ModelSpec.Role.TARGET).toList();
    }

    /** The validation models (role = validation), in configuration order. */
    public List<ModelSpec> validation() {
        return models.stream().filter(m -> m.role() == ModelSpec.Role.VALIDATION).toList();
    }

    /**
     * The surrogate files this round's precision runs, in configuration order: {@link
     * #surrogateSources} resolved by {@link io.advspark.model.ModelLoader#atPrecision} (reads their cards).
     */
    public List<ModelSource> surrogateSources(io.advspark.data.Storage storage) {
        return io.advspark.model.ModelLoader.atPrecision(surrogateSources(), precision, storage);
    }

    /** What the model loader needs of the surrogates, as configured (before {@code precision} picks files). */
    public List<ModelSource> surrogateSources() {
        return surrogates().stream().map(ModelSpec::source).toList();
    }

    /** The surrogate models, in configuration order. */
    public List<ModelSpec> surrogates() {
        return models.stream().filter(m -> m.role() == ModelSpec.Role.SURROGATE).toList();
    }

    /**
     * The identity the records of attack {@code a} (built as {@code built}) carry, which a resume
     * must find again: the attack's spec, its score-aware settings and, when those query them, the
     * validation models and their defense chains. Without score-aware settings it is the spec.
     */
    public String identity(NamedAttack a, io.advspark.attack.Attack built) {
        String id = built.spec() + a.config().scoreAwareSpec();
        if (a.config().usesValidation()) {
            id += " validation=[" + validation().stream()
                    .map(m -> m.path() + " " + m.defenses().stream().map(d -> d.spec()).toList())
                    .collect(java.util.stream.Collectors.joining("; ")) + "]";
        }
        return id;
    }

    /** Whether an attack of this round searches budgets ({@code attack.search} with more than one budget). */
    public boolean searches() {
        return attacks.stream().anyMatch(a -> a.config().search() != null && a.config().search().epsPixels().size() > 1);
    }

    /**
     * The attack configurations the executors run, in order: each attack without a budget search,
     * and for each search one attempt per budget ({@link ScoreAware#attemptName}). A search's own
     * name is written by the job from its attempts.
     */
    public List<NamedAttack> runnable() {
        List<NamedAttack> out = new java.util.ArrayList<>();
        for (NamedAttack a : attacks) {
            ScoreAware.Search s = a.config().search();
            if (s == null || s.epsPixels().size() == 1) {
                out.add(a);
            } else {
                for (double e : s.epsPixels()) {
                    out.add(new NamedAttack(ScoreAware.attemptName(a.name(), e), a.config().atEps(e)));
                }
            }
        }
        return out;
    }

    /** Root folder of this round's outputs (every path inside it: {@code round.RoundLayout.of(plan)}). */
    public String roundUri() {
        return io.advspark.data.Storage.join(output, roundId);
    }
}
