package io.advspark.bench;

import io.advspark.model.TorchRuntime;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options that several harnesses share, as picocli mixins ({@code @Mixin}). A harness that
 * needs another default constructs the mixin with it; {@code --help} shows the harness's default.
 */
public final class BenchOptions {
    private BenchOptions() {}

    /** {@code --threads}: libtorch's intra-op threads for this JVM. */
    public static final class Torch {
        @Option(names = "--threads", paramLabel = "N",
                description = "libtorch threads (intra-op) of this JVM; on a machine shared with other work 1 is often faster")
        public int threads = 2;

        public Torch() {}

        /** Starts libtorch with {@code --threads} (once per JVM). */
        public void start() {
            TorchRuntime.start(threads);
        }
    }

    /** {@code --data} and {@code --label-base}: a dataset folder (dev.csv + PNGs) and its label numbering. */
    public static final class Data {
        @Option(names = "--data", paramLabel = "DIR",
                description = "dataset folder: dev.csv and its PNGs")
        public Path dir;

        @Option(names = "--label-base", paramLabel = "B",
                description = "the dataset's first label number (1: NIPS-17's 1001 classes with background, 0: CIFAR-10)")
        public int labelBase;

        public Data() {
            this("nips17-dev-300", 1);
        }

        /** {@code dataset} is a folder name under the shared data folder. */
        public Data(String dataset, int labelBase) {
            this.dir = BenchCommand.shared().resolve("data").resolve(dataset);
            this.labelBase = labelBase;
        }
    }

    /** {@code --out}: the markdown file a harness appends its table to (the table is printed as well). */
    public static final class Table {
        @Option(names = "--out", paramLabel = "FILE", description = "markdown file the table is appended to (it is printed too)")
        public Path out;

        public Table() {
            this(Path.of("table.md"));
        }

        public Table(Path out) {
            this.out = out;
        }
    }
}
