package io.advspark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.advspark.model.ModelCache;
import io.advspark.testing.Rounds;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models are broadcast once per job and materialised once per executor JVM, not per task or batch. */
class ModelBroadcastTest {

    @Test
    void eachModelLoadsOncePerJvmAcrossPartitionsAndBatches(@TempDir Path out) {
        int before = ModelCache.loadCount();
        Rounds.Result r = Rounds.run(Rounds.config(io.advspark.testing.Rounds.TINY.getPath(), "round.output=\"" + out + "\"", "dataset.partitions=6",
                "batch-size=4", "attack.steps=2"), "local[2]");
        assertEquals(48, r.records().size());
        long executors = r.records().stream().map(x -> x.<String>getAs("executor_id")).distinct().count();
        assertEquals(1, executors, "local mode: one executor JVM");
        assertEquals(2, ModelCache.loadCount() - before, "2 models, 6 partitions, 12 batches: 2 loads");
    }
}
