package io.advspark.config;

import java.util.List;
import java.util.Map;

/**
 * Everything one attack round needs, validated. Built by {@link ConfigLoader}.
 *
 * @param roundId outputs go to {@code <output>/<roundId>/}
 * @param output output root URI
 * @param dataset the images
 * @param models surrogates and targets
 * @param attack the attack
 * @param batchSize images per attack batch
 * @param device {@code cpu}
 * @param threads libtorch intra-op threads per JVM, 0 for DJL's default
 * @param sparkMaster master used when the launcher gets none
 * @param sparkAppName application name
 * @param sparkConf extra Spark properties
 * @param score the competition score of {@code advspark evaluate} ({@code evaluate.score})
 */
public record RoundConfig(
        String roundId,
        String output,
        DatasetConfig dataset,
        List<ModelSpec> models,
        AttackConfig attack,
        int batchSize,
        String device,
        int threads,
        String sparkMaster,
        String sparkAppName,
        Map<String, String> sparkConf,
        String score)
        implements java.io.Serializable {

    public RoundConfig {
        models = List.copyOf(models);
        sparkConf = Map.copyOf(sparkConf);
    }

    /** A round with the default score ({@code tianchi2019}). */
    public RoundConfig(String roundId, String output, DatasetConfig dataset, List<ModelSpec> models, AttackConfig attack,
            int batchSize, String device, int threads, String sparkMaster, String sparkAppName, Map<String, String> sparkConf) {
        this(roundId, output, dataset, models, attack, batchSize, device, threads, sparkMaster, sparkAppName, sparkConf,
                "tianchi2019(eps=32)");
    }

    /** The held-out target models (role = target), in configuration order. */
    public List<ModelSpec> targets() {
        return models.stream().filter(m -> m.role() == ModelSpec.Role.TARGET).toList();
    }

    /** The surrogate models, in configuration order. */
    public List<ModelSpec> surrogates() {
        return models.stream().filter(m -> m.role() == ModelSpec.Role.SURROGATE).toList();
    }

    /** Root folder of this round's outputs. */
    public String roundUri() {
        return output.endsWith("/") ? output + roundId : output + "/" + roundId;
    }
}
