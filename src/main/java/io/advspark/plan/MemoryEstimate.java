package io.advspark.plan;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The memory one executor needs for an attack configuration, estimated before a round starts, so
 * that a round too large for its executors is refused (or warned about) with the numbers instead
 * of being killed by the kernel mid-round ("signal 9"). Pure arithmetic: no Spark, no libtorch;
 * the measured figures come in as arguments ({@code job.MemoryCheck} gathers them).
 *
 * <p>The model: every concurrent task of an executor runs one gradient call at a time, which sends
 * {@code batch x rowsPerImage} rows (copies x input transforms' copies x the update rule's points)
 * through every surrogate in micro-batches of at most {@code max-rows} rows, each padded to a
 * multiple of 4 rows ({@code model.Classifier}). The activations of one micro-batch of every
 * surrogate are alive together (one graph per micro-batch over the ensemble), so per executor
 *
 * <pre>
 *   rows in flight = tasks x pad4(min(max-rows, batch x rowsBuilt))
 *   activations    = rows in flight x sum over surrogates of bytesPerRow   (measured at load)
 *   inputs         = tasks x batch x rowsBuilt x 3 x H x W x 4 B x 4       (H x W: the largest surrogate input
 *                                                                          or the first image, if larger)
 *   transforms     = tasks x batch x graphRows x 3 x H x W x 4 B
 *   models         = sum of the surrogates' TorchScript sizes               (one libtorch copy per executor)
 *   estimate       = base + runtime + models + activations + inputs + transforms
 * </pre>
 *
 * {@code rowsBuilt} is {@code rowsPerImage} except where an input transform builds its copies a
 * chunk at a time (OPS: one neighbour's operators), which counts at its chunk
 * ({@code Attack.rowsBuiltPerImage}); {@code graphRows} is what the input transforms' graphs keep
 * beyond their outputs (OPS's compositions and DI's enlarged canvas, {@code Attack.graphRowsPerImage};
 * 0 for most attacks).
 *
 * where {@code inputs} counts the whole call's model inputs that stay alive beside the
 * micro-batches (the stacked points, the transformed inputs, their upstream gradient and the
 * gradient at the points: 4 float32 copies), and {@code base} is what the process holds already
 * (in local mode the driver's resident memory, which the executor shares; 0 for a cluster
 * executor, whose budget is its container). {@code runtime} ({@value #RUNTIME_MIB} MiB) is what a
 * process grows by once the job runs beside the measured figures (Spark's task machinery, the
 * JVM heap growing, image and table buffers, allocator fragmentation), calibrated on CIFAR rounds
 * in local mode: peak resident memory 0.05 to 0.37 GiB above the estimate without it; with it the
 * estimate came within -17% to +9% of the peak (docs/memory.md has the table).
 */
public final class MemoryEstimate {
    private MemoryEstimate() {}

    /** Rows of every forward are padded to a multiple of this ({@code model.Classifier.MIN_FORWARD_ROWS}). */
    public static final int ROW_GROUP = 4;

    /** Float32 copies of a call's model inputs held beside the micro-batches (see the class comment). */
    public static final int INPUT_COPIES = 4;

    /** Allowance for the process's growth while the job runs (see the class comment), in MiB. */
    public static final int RUNTIME_MIB = 256;

    private static final double GIB = 1024.0 * 1024 * 1024;

    /**
     * A surrogate as the estimate sees it.
     *
     * @param name the model's name (for messages)
     * @param channels input channels
     * @param height input height
     * @param width input width
     * @param bytesPerRow measured activation memory of one row's forward and backward
     * @param modelBytes size of the TorchScript file (its weights, loaded once per executor)
     */
    public record Surrogate(String name, int channels, int height, int width, long bytesPerRow, long modelBytes) {
        public Surrogate {
            if (bytesPerRow < 0 || modelBytes < 0) {
                throw new IllegalArgumentException("negative memory figure for " + name);
            }
        }

        long inputBytesPerRow() {
            return (long) channels * height * width * Float.BYTES;
        }
    }

    /**
     * One attack configuration's load on a task.
     *
     * @param attack the configuration's name
     * @param batch images per batch ({@code batch-size})
     * @param rowsPerImage rows per image of one gradient call ({@code Attack.rowsPerImage()})
     * @param maxRows the round's {@code max-rows}
     * @param rowsBuiltPerImage of those, the rows per image alive at once ({@code Attack.rowsBuiltPerImage()})
     * @param graphRowsPerImage row-sized arrays per image that the input transforms' graphs keep
     *     beyond their outputs ({@code Attack.graphRowsPerImage()})
     */
    public record Workload(String attack, int batch, long rowsPerImage, int maxRows, long rowsBuiltPerImage,
            double graphRowsPerImage) {
        public Workload {
            if (batch < 1 || rowsPerImage < 1 || maxRows < 1 || rowsBuiltPerImage < 1 || rowsBuiltPerImage > rowsPerImage) {
                throw new IllegalArgumentException("batch, rows per image and max-rows must be >= 1, rows built at once"
                        + " between 1 and the rows per image");
            }
            if (graphRowsPerImage < 0) {
                throw new IllegalArgumentException("negative graph rows per image");
            }
        }

        /** A workload whose transforms build every row at once and keep nothing beyond their outputs. */
        public Workload(String attack, int batch, long rowsPerImage, int maxRows) {
            this(attack, batch, rowsPerImage, maxRows, rowsPerImage, 0);
        }

        /** Rows of one gradient call of a batch: batch x copies x points. */
        public long rowsPerCall() {
            return batch * rowsPerImage;
        }

        /** Of those, the rows alive at once: all of them unless a transform builds its copies in chunks. */
        public long rowsBuiltPerCall() {
            return batch * rowsBuiltPerImage;
        }

        /** Rows of one surrogate forward: min(max-rows, rows built at once), padded to a multiple of 4. */
        public long rowsPerForward() {
            long r = Math.min(maxRows, rowsBuiltPerCall());
            return (r + ROW_GROUP - 1) / ROW_GROUP * ROW_GROUP;
        }
    }

    /**
     * What one executor has.
     *
     * @param tasks concurrent tasks per executor
     * @param availableBytes memory the executor may use (local mode: the machine's; a cluster:
     *     {@code spark.executor.memory + memoryOverhead}; or the {@code memory.available} override)
     * @param baseBytes memory the process holds already (local mode: the driver's resident memory)
     * @param source where {@code availableBytes} comes from (for the log line)
     */
    public record Executor(int tasks, long availableBytes, long baseBytes, String source) {
        public Executor {
            if (tasks < 1) {
                throw new IllegalArgumentException("tasks per executor must be >= 1, got " + tasks);
            }
        }
    }

    /** The outcome for one attack configuration. */
    public enum Verdict {
        OK,
        WARN,
        REFUSE
    }

    /** The numbers for one attack configuration on one executor. */
    public record Line(Workload workload, int tasks, long rowsInFlight, long activationBytes, long inputBytes,
            long transformBytes, long modelBytes, long baseBytes, long availableBytes, String source, Verdict verdict) {

        public long totalBytes() {
            return baseBytes + runtimeBytes() + modelBytes + activationBytes + inputBytes + transformBytes;
        }

        /** The runtime allowance ({@value MemoryEstimate#RUNTIME_MIB} MiB). */
        public long runtimeBytes() {
            return (long) RUNTIME_MIB << 20;
        }

        public double fraction() {
            return availableBytes <= 0 ? Double.POSITIVE_INFINITY : (double) totalBytes() / availableBytes;
        }

        /** The log line: rows in flight, estimated and available GiB, and how they add up. */
        public String describe() {
            Workload w = workload;
            String rows = w.rowsBuiltPerImage() == w.rowsPerImage() ? w.rowsPerImage() + " rows per image"
                    : w.rowsPerImage() + " rows per image, " + w.rowsBuiltPerImage() + " built at once";
            String transforms = transformBytes == 0 ? "" : String.format(Locale.ROOT, " + transforms %.2f", gib(transformBytes));
            return String.format(Locale.ROOT,
                    "attack %s: %d rows in flight per executor (%d task(s) x %d rows per forward: batch %d x %s,"
                            + " max-rows %d), estimated %.2f GiB (activations %.2f + inputs %.2f%s + models %.2f"
                            + " + process %.2f + runtime %.2f) of %.2f GiB available (%s): %.0f%%",
                    w.attack(), rowsInFlight, tasks, w.rowsPerForward(), w.batch(), rows, w.maxRows(),
                    gib(totalBytes()), gib(activationBytes), gib(inputBytes), transforms, gib(modelBytes), gib(baseBytes),
                    gib(runtimeBytes()), gib(availableBytes), source, 100 * fraction());
        }

        /** What to lower, for a warning or a refusal. */
        public String advice() {
            Workload w = workload;
            StringBuilder b = new StringBuilder("lower ");
            if (w.rowsPerForward() > ROW_GROUP && w.maxRows() >= w.rowsBuiltPerCall()) {
                b.append("max-rows (now ").append(w.maxRows()).append("; this config's calls have ").append(w.rowsBuiltPerCall())
                        .append(" rows, so only a value below that cuts them), ");
            } else if (w.rowsPerForward() > ROW_GROUP) {
                b.append("max-rows (now ").append(w.maxRows()).append("), ");
            }
            if (w.batch() > 1) {
                b.append("batch-size (now ").append(w.batch()).append("), ");
            }
            if (tasks > 1) {
                b.append("the concurrent tasks per executor (now ").append(tasks)
                        .append(": local[N] or spark.executor.cores / spark.task.cpus), ");
            }
            b.append("or give the executors more memory");
            return b.toString();
        }
    }

    /**
     * The estimate of {@code workload} on {@code executor} with {@code ensemble}: {@link Verdict#REFUSE}
     * above 100% of the available memory, {@link Verdict#WARN} above {@code warnFraction}.
     */
    public static Line estimate(Workload workload, List<Surrogate> ensemble, Executor executor, double warnFraction) {
        return estimate(workload, ensemble, executor, warnFraction, 0);
    }

    /**
     * As {@link #estimate(Workload, List, Executor, double)}, with the images' height x width
     * ({@code imagePixels}, 0 if unknown): the input transforms build their rows at the image's
     * size, which may exceed the surrogates' inputs (each surrogate resizes to its own).
     */
    public static Line estimate(Workload workload, List<Surrogate> ensemble, Executor executor, double warnFraction,
            long imagePixels) {
        if (ensemble.isEmpty()) {
            throw new IllegalArgumentException("no surrogates");
        }
        long perRow = 0;
        long models = 0;
        long inputPerRow = 0;
        for (Surrogate s : ensemble) {
            perRow += s.bytesPerRow();
            models += s.modelBytes();
            inputPerRow = Math.max(inputPerRow, s.inputBytesPerRow());
            inputPerRow = Math.max(inputPerRow, (long) s.channels() * imagePixels * Float.BYTES);
        }
        long rowsInFlight = (long) executor.tasks() * workload.rowsPerForward();
        long activations = rowsInFlight * perRow;
        long inputs = (long) executor.tasks() * workload.rowsBuiltPerCall() * inputPerRow * INPUT_COPIES;
        long transforms = (long) Math.ceil(executor.tasks() * workload.batch() * workload.graphRowsPerImage() * inputPerRow);
        Line partial = new Line(workload, executor.tasks(), rowsInFlight, activations, inputs, transforms, models,
                executor.baseBytes(), executor.availableBytes(), executor.source(), Verdict.OK);
        double f = partial.fraction();
        Verdict v = f > 1.0 ? Verdict.REFUSE : f > warnFraction ? Verdict.WARN : Verdict.OK;
        return new Line(workload, executor.tasks(), rowsInFlight, activations, inputs, transforms, models,
                executor.baseBytes(), executor.availableBytes(), executor.source(), v);
    }

    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\s*\\d+)?])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*,\\s*(\\d+)\\s*]");

    /**
     * Concurrent tasks per executor: N of {@code local[N]} ({@code cores} for {@code local[*]}, 1
     * for {@code local}); the cores of {@code local-cluster[n,c,m]} or {@code spark.executor.cores}
     * divided by {@code spark.task.cpus}; 1 when a cluster sets no {@code spark.executor.cores}
     * (YARN's and Kubernetes' default; a standalone executor takes all its worker's cores, which
     * the driver cannot know before it starts: set spark.executor.cores there).
     */
    public static int tasksPerExecutor(String master, Map<String, String> conf, int cores) {
        String m = master == null ? "" : master.trim();
        Matcher local = LOCAL.matcher(m);
        if (local.matches()) {
            String n = local.group(1);
            return n == null ? 1 : n.equals("*") ? Math.max(1, cores) : Math.max(1, Integer.parseInt(n));
        }
        int taskCpus = Math.max(1, Integer.parseInt(conf.getOrDefault("spark.task.cpus", "1").trim()));
        Matcher lc = LOCAL_CLUSTER.matcher(m);
        int executorCores;
        if (lc.matches()) {
            executorCores = Integer.parseInt(lc.group(2));
        } else {
            executorCores = Integer.parseInt(conf.getOrDefault("spark.executor.cores", "1").trim());
        }
        return Math.max(1, executorCores / taskCpus);
    }

    /** Whether {@code master} runs the executor inside the driver's JVM ({@code local}, {@code local[N]}). */
    public static boolean isLocal(String master) {
        return master != null && LOCAL.matcher(master.trim()).matches();
    }

    /**
     * A cluster executor's budget: {@code spark.executor.memory} (default 1g) plus
     * {@code spark.executor.memoryOverhead} (default max(384 MiB, memoryOverheadFactor (0.10) x
     * memory)), as Spark sizes its container; {@code local-cluster[n,c,m]} gives m MiB.
     */
    public static long clusterExecutorBytes(String master, Map<String, String> conf) {
        long memory;
        Matcher lc = LOCAL_CLUSTER.matcher(master == null ? "" : master.trim());
        String explicit = conf.get("spark.executor.memory");
        if (explicit != null) {
            memory = sizeBytes(explicit, 'm');
        } else if (lc.matches()) {
            memory = Long.parseLong(lc.group(3)) << 20;
        } else {
            memory = 1L << 30;
        }
        String overhead = conf.get("spark.executor.memoryOverhead");
        long extra;
        if (overhead != null) {
            extra = sizeBytes(overhead, 'm');
        } else {
            double factor = Double.parseDouble(conf.getOrDefault("spark.executor.memoryOverheadFactor", "0.10"));
            extra = Math.max(384L << 20, (long) (factor * memory));
        }
        return memory + extra;
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgtp]?)(?:i?b)?", Pattern.CASE_INSENSITIVE);

    /** A Spark size string ({@code 4g}, {@code 512m}, {@code 2048}), bare numbers in {@code unit}. */
    public static long sizeBytes(String text, char unit) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a memory size: '" + text + "'");
        }
        char u = m.group(2).isEmpty() ? unit : Character.toLowerCase(m.group(2).charAt(0));
        int shift = switch (u) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            case 'p' -> 50;
            default -> 0;
        };
        return Long.parseLong(m.group(1)) << shift;
    }

    static double gib(long bytes) {
        return bytes / GIB;
    }
}
