package io.advspark.plan;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.advspark.defense.DefenseChain;
import io.advspark.plan.ModelSpec;
import io.advspark.score.Scoring;
import io.advspark.util.Secrets;
import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Names;
import io.advspark.vocabulary.PartSpec;
import java.io.File;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Loads a round from HOCON: {@code reference.conf} (defaults and the list of valid keys) &lt;
 * the round file, or the embedded demo round ({@value #DEMO_RESOURCE}) when there is none &lt;
 * {@code --set key=value} overrides. Every problem is reported before any work starts, with the
 * key's path.
 *
 * <p>A relative path resolves against the folder of the file that wrote it (an included file's
 * own folder), so a round file runs from any working directory; a {@code --set} value or a
 * default against the working directory, as a shell argument would; the embedded demo's against
 * the installation ({@value #HOME_PROPERTY}, set by {@code jobs/advspark}).
 */
public final class ConfigLoader {
    public static final String ROOT = "advspark";
    private static final Set<String> MODEL_KEYS = Set.of("path", "group", "card", "role", "weight", "augment", "defenses");
    /** Spark properties: flat names such as {@code spark.executor.memory}, written quoted or not. */
    static final String SPARK_CONF = ROOT + ".spark.conf";
    /** Objects whose keys are free (user-chosen names). */
    private static final Set<String> OPEN_OBJECTS = Set.of(SPARK_CONF);

    /** The embedded demo round: what {@code advspark attack} without {@code --config} runs. */
    public static final String DEMO_RESOURCE = "/demo-round.conf";
    /** The installation folder, against which the embedded demo's relative paths resolve (default: working directory). */
    public static final String HOME_PROPERTY = "advspark.home";

    private ConfigLoader() {}

    /**
     * Loads a round.
     *
     * @param file the round file, or null for the embedded demo defaults
     * @param overrides {@code key=value} strings; keys may omit the {@code advspark.} prefix
     */
    public static RoundConfig load(File file, List<String> overrides) {
        Config reference = ConfigFactory.parseResources(ConfigLoader.class, "/reference.conf");
        if (reference.isEmpty()) {
            throw new ConfigException("reference.conf is missing from the classpath");
        }
        Config user;
        String origin;
        if (file == null) {
            user = ConfigFactory.parseResources(ConfigLoader.class, DEMO_RESOURCE);
            if (user.isEmpty()) {
                throw new ConfigException(DEMO_RESOURCE.substring(1) + " is missing from the classpath");
            }
            origin = "the embedded demo round";
        } else {
            if (!file.isFile()) {
                throw new ConfigException("round configuration not found: " + file);
            }
            try {
                user =
                        ConfigFactory.parseFile(
                                file, ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (com.typesafe.config.ConfigException e) {
                throw new ConfigException("cannot parse " + file + ": " + Secrets.redactText(e.getMessage()), e);
            }
            origin = file.getPath();
        }
        user = flattenSparkConf(user);
        Config over = parseOverrides(overrides);
        Config merged = over.withFallback(user);
        if (file != null && !merged.hasPath(ROOT + ".round.id")) {
            // A round file without an id is named after the file (my-round.conf: round my-round),
            // so that two such files never share the demo's folder.
            String stem = file.getName().replaceFirst("\\.[^.]*$", "");
            if (Names.problem(stem) == null) {
                merged = merged.withValue(ROOT + ".round.id", com.typesafe.config.ConfigValueFactory.fromAnyRef(stem,
                        "the round file's name"));
            }
        }
        checkKeys(merged.root(), reference, "");
        Config all = merged.withFallback(reference);
        try {
            all = all.resolve();
            return build(all.getConfig(ROOT));
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException(describe(e, origin), e);
        }
    }

    /**
     * A typed-value error labelled with where the value came from: a {@code --set} (without the
     * line number of its one-line source), the file and line, or the defaults.
     */
    static String describe(com.typesafe.config.ConfigException e, String loaded) {
        String message = Secrets.redactText(e.getMessage());
        com.typesafe.config.ConfigOrigin o = e.origin();
        String source = o == null ? null : Secrets.redactText(o.description());
        if (source != null && source.startsWith("--set ")) {
            String rest = message.replaceFirst("^" + java.util.regex.Pattern.quote(source) + ":? ?", "");
            return "bad value in " + source.replaceFirst(": \\d+$", "") + ": " + rest;
        }
        if (source != null && message.startsWith(source)) {
            return "bad configuration: " + message; // names the file and line itself
        }
        if (o != null && o.resource() != null && ("/" + o.resource()).equals("/reference.conf")) {
            return "bad configuration (the defaults, reference.conf): " + message;
        }
        return "bad configuration (" + loaded + "): " + message;
    }

    /** Parses {@code key=value} overrides; values are HOCON, falling back to a plain string. */
    static Config parseOverrides(List<String> overrides) {
        Config result = ConfigFactory.empty();
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("--set expects key=value, got: " + Secrets.redactUris(o));
            }
            String key = o.substring(0, eq).trim();
            String value = o.substring(eq + 1).trim();
            if (!key.startsWith(ROOT + ".")) {
                key = ROOT + "." + key;
            }
            // Error messages quote the origin: never the value of a credential key.
            String origin = "--set " + Secrets.redactText(Secrets.redactAssignment(o));
            Config one;
            try {
                one =
                        ConfigFactory.parseString(
                                key + " = " + value,
                                ConfigParseOptions.defaults()
                                        .setSyntax(ConfigSyntax.CONF)
                                        .setOriginDescription(origin));
            } catch (com.typesafe.config.ConfigException e) {
                try {
                    one =
                            ConfigFactory.parseString(
                                    key + " = " + ConfigValueQuote.quote(value),
                                    ConfigParseOptions.defaults().setOriginDescription(origin));
                } catch (com.typesafe.config.ConfigException bad) {
                    throw new ConfigException(origin + ": '" + key + "' is not a valid configuration key", bad);
                }
            }
            result = flattenSparkConf(one).withFallback(result);
        }
        return result;
    }

    private static void checkKeys(ConfigObject object, Config reference, String prefix) {
        for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
            String path = prefix.isEmpty() ? quoteKey(e.getKey()) : prefix + "." + quoteKey(e.getKey());
            if (prefix.isEmpty() && !e.getKey().equals(ROOT)) {
                throw new ConfigException(
                        "unknown configuration key '" + path + "' (all keys live under '" + ROOT
                                + ".')" + where(e.getValue()));
            }
            if (OPEN_OBJECTS.contains(prefix)) {
                continue; // checked whole by checkSparkConf
            }
            if (!reference.hasPathOrNull(path)) {
                throw new ConfigException(
                        "unknown configuration key '" + path + "'" + where(e.getValue())
                                + suggestion(reference, prefix));
            }
            ConfigValue ref = reference.getValue(path);
            if (path.equals(ROOT + ".models")) {
                checkModels(e.getValue(), path);
                continue;
            }
            if (path.equals(ROOT + ".attacks")) {
                checkAttacks(e.getValue(), path, reference);
                continue;
            }
            if (path.equals(ROOT + ".grid")) {
                checkGrid(e.getValue(), path, reference);
                continue;
            }
            if (e.getValue().valueType() == ConfigValueType.OBJECT) {
                if (ref.valueType() != ConfigValueType.OBJECT) {
                    throw new ConfigException(
                            "'" + path + "' must be a " + ref.valueType().name().toLowerCase(Locale.ROOT)
                                    + ", not an object" + where(e.getValue()));
                }
                if (path.equals(SPARK_CONF)) {
                    checkSparkConf((ConfigObject) e.getValue());
                }
                checkKeys((ConfigObject) e.getValue(), reference, path);
            } else if (ref.valueType() == ConfigValueType.OBJECT && !OPEN_OBJECTS.contains(path)) {
                throw new ConfigException("'" + path + "' must be an object" + where(e.getValue()));
            }
        }
    }

    /**
     * Credentials belong in the Hadoop/AWS provider chain or the environment, never in a round
     * file or a {@code --set} (which ends up in shell histories and logs). Every key is checked,
     * all offenders named at once, their values never shown.
     */
    private static void checkSparkConf(ConfigObject conf) {
        List<String> secrets = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : flatten(conf).entrySet()) {
            if (Secrets.isSecretKey(e.getKey())) {
                secrets.add("'" + SPARK_CONF + ".\"" + e.getKey() + "\"'" + where(e.getValue()));
            }
        }
        if (!secrets.isEmpty()) {
            throw new ConfigException(String.join(", ", secrets) + (secrets.size() == 1 ? " looks like a credential" : " look like credentials")
                    + ": pass credentials through the Hadoop/AWS provider chain or the environment, never a round file"
                    + " or --set (see docs/operations.md 'Object storage')");
        }
    }

    /**
     * {@code advspark.spark.conf} with every key a flat Spark property name. HOCON reads an
     * unquoted {@code spark.executor.memory = 8g} as nested objects; without this they were
     * dropped (only the first level was read) and escaped the credential check. Done per source
     * (file, each {@code --set}) before merging, so that a later source overrides a key however
     * either wrote it.
     */
    static Config flattenSparkConf(Config c) {
        ConfigValue conf;
        try {
            conf = c.hasPath(SPARK_CONF) ? c.getValue(SPARK_CONF) : null;
        } catch (com.typesafe.config.ConfigException e) {
            return c; // advspark.spark is not an object: checkKeys names it
        }
        if (conf == null || conf.valueType() != ConfigValueType.OBJECT) {
            return c;
        }
        ConfigObject flat = ConfigFactory.empty().root();
        for (Map.Entry<String, ConfigValue> e : flatten((ConfigObject) conf).entrySet()) {
            flat = flat.withValue(e.getKey(), e.getValue()); // a key, not a path: the dots stay in the name
        }
        return c.withoutPath(SPARK_CONF).withValue(SPARK_CONF, flat);
    }

    /** Nested objects as dotted keys; the same key written both quoted and unquoted in one source is an error. */
    static Map<String, ConfigValue> flatten(ConfigObject object) {
        Map<String, ConfigValue> out = new LinkedHashMap<>();
        flatten(object, "", out);
        return out;
    }

    private static void flatten(ConfigObject object, String prefix, Map<String, ConfigValue> out) {
        for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue().valueType() == ConfigValueType.OBJECT) {
                flatten((ConfigObject) e.getValue(), key, out);
                continue;
            }
            ConfigValue before = out.put(key, e.getValue());
            if (before != null) {
                throw new ConfigException("'" + SPARK_CONF + ".\"" + key + "\"' is set twice (quoted and unquoted)"
                        + where(before) + " and" + where(e.getValue()));
            }
        }
    }

    private static void checkModels(ConfigValue value, String path) {
        if (value.valueType() != ConfigValueType.LIST) {
            throw new ConfigException("'" + path + "' must be a list of models" + where(value));
        }
        ConfigList list = (ConfigList) value;
        for (int i = 0; i < list.size(); i++) {
            ConfigValue item = list.get(i);
            if (item.valueType() != ConfigValueType.OBJECT) {
                throw new ConfigException(
                        "'" + path + "[" + i + "]' must be an object {path or group, card, role, weight}"
                                + where(item));
            }
            for (String k : ((ConfigObject) item).keySet()) {
                if (!MODEL_KEYS.contains(k)) {
                    throw new ConfigException(
                            "unknown configuration key '" + path + "[" + i + "]." + k
                                    + "' (a model takes " + MODEL_KEYS + ")" + where(item));
                }
            }
        }
    }

    /** Each entry of advspark.attacks: an object with a name and keys of advspark.attack. */
    private static void checkAttacks(ConfigValue value, String path, Config reference) {
        if (value.valueType() != ConfigValueType.LIST) {
            throw new ConfigException("'" + path + "' must be a list of attack configurations" + where(value));
        }
        Set<String> valid = reference.getObject(ROOT + ".attack").keySet();
        ConfigList list = (ConfigList) value;
        for (int i = 0; i < list.size(); i++) {
            ConfigValue item = list.get(i);
            if (item.valueType() != ConfigValueType.OBJECT) {
                throw new ConfigException("'" + path + "[" + i + "]' must be an object { name = ..., <keys of advspark.attack> }"
                        + where(item));
            }
            for (String k : ((ConfigObject) item).keySet()) {
                if (!valid.contains(k)) {
                    throw new ConfigException("unknown configuration key '" + path + "[" + i + "]." + quoteKey(k)
                            + "' (an attack takes the keys of advspark.attack: " + valid + ")" + where(item));
                }
            }
        }
    }

    /** advspark.grid: keys of advspark.attack (not name), each a list of values. */
    private static void checkGrid(ConfigValue value, String path, Config reference) {
        if (value.valueType() != ConfigValueType.OBJECT) {
            throw new ConfigException("'" + path + "' must be an object, e.g. { eps = [4, 8, 16] }" + where(value));
        }
        Set<String> valid = new java.util.TreeSet<>(reference.getObject(ROOT + ".attack").keySet());
        valid.remove("name");
        for (Map.Entry<String, ConfigValue> g : ((ConfigObject) value).entrySet()) {
            if (!valid.contains(g.getKey())) {
                throw new ConfigException("unknown configuration key '" + path + "." + quoteKey(g.getKey())
                        + "' (a grid sweeps keys of advspark.attack: " + valid + ")" + where(g.getValue()));
            }
            if (g.getValue().valueType() != ConfigValueType.LIST || ((ConfigList) g.getValue()).isEmpty()) {
                throw new ConfigException("'" + path + "." + quoteKey(g.getKey()) + "' must be a non-empty list of values"
                        + where(g.getValue()));
            }
        }
    }

    private static String quoteKey(String key) {
        return key.contains(".") ? "\"" + key + "\"" : key;
    }

    private static String where(ConfigValue v) {
        String d = v.origin() == null ? null : v.origin().description();
        if (d != null && d.startsWith("--set ")) {
            d = d.replaceFirst(": \\d+$", ""); // a --set is one line: its line number says nothing
        }
        return d == null ? "" : " at " + d;
    }

    private static String suggestion(Config reference, String prefix) {
        if (prefix.isEmpty() || !reference.hasPath(prefix)) {
            return "";
        }
        return "; valid keys here: " + reference.getObject(prefix).keySet();
    }

    private static RoundConfig build(Config c) {
        String roundId = c.getString("round.id");
        String idProblem = io.advspark.vocabulary.Names.problem(roundId);
        if (idProblem != null) {
            throw new ConfigException("advspark.round.id '" + roundId + "' " + idProblem + " (it names the round's folder)");
        }
        String output = location(c, "round.output", "advspark.round.output");
        String dots = io.advspark.data.UriPaths.dotSegments(output);
        if (dots != null) {
            throw new ConfigException("advspark.round.output '" + io.advspark.data.Storage.redact(output) + "' contains a '"
                    + dots + "' segment: give the output folder without '.' or '..' steps");
        }
        int leaseSeconds = c.getInt("round.lease-seconds");
        if (leaseSeconds < 4 || leaseSeconds > 86_400) {
            throw new ConfigException("advspark.round.lease-seconds must be in 4..86400, got " + leaseSeconds);
        }

        if (c.getString("dataset.uri").isBlank()) {
            throw new ConfigException("advspark.dataset.uri is required: the folder of the round's images and manifest"
                    + " (dataset { uri = \"data\" }, a path relative to the round file, or an s3a:// URI)");
        }
        DatasetConfig dataset =
                new DatasetConfig(
                        location(c, "dataset.uri", "advspark.dataset.uri"),
                        c.getString("dataset.layout"),
                        c.getString("dataset.manifest"),
                        c.getInt("dataset.label-base"),
                        c.getInt("dataset.limit"),
                        c.getInt("dataset.partitions"),
                        new io.advspark.data.Manifest.Columns(c.getString("dataset.columns.image-id"),
                                c.getString("dataset.columns.true-label"), c.getString("dataset.columns.target-class")),
                        c.getString("dataset.classes"));
        if (dataset.columns().imageId().isBlank() || dataset.columns().trueLabel().isBlank()) {
            throw new ConfigException("advspark.dataset.columns: image-id and true-label name the manifest's columns and"
                    + " must not be empty (target-class may be, to draw targets)");
        }
        try {
            io.advspark.data.DatasetLayout.forName(dataset.layout());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("advspark.dataset.layout: " + e.getMessage());
        }
        if (dataset.labelBase() != 0 && dataset.labelBase() != 1) {
            throw new ConfigException("advspark.dataset.label-base must be 0 or 1, got " + dataset.labelBase());
        }
        requireNonNegative(dataset.limit(), "advspark.dataset.limit");
        requireNonNegative(dataset.partitions(), "advspark.dataset.partitions");

        List<ModelSpec> models = new ArrayList<>();
        List<? extends Config> list = c.getConfigList("models");
        for (int i = 0; i < list.size(); i++) {
            Config m = list.get(i);
            String key = "advspark.models[" + i + "]";
            boolean group = m.hasPath("group");
            if (group == m.hasPath("path")) {
                throw new ConfigException(key + (group ? " sets both path and group: a model entry is one TorchScript file"
                        + " (path) or a checkpoint group (group = a folder or a glob of .pt files)" : ".path is required"
                        + " (or group = a folder or glob of checkpoints)"));
            }
            String path = group ? location(m, "group", key + ".group") : location(m, "path", key + ".path");
            if (group && path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            // A group's card is its optional group card (group.json in the folder); a file's the
            // .json beside it.
            String card =
                    m.hasPath("card")
                            ? location(m, "card", key + ".card")
                            : group ? path + "/" + io.advspark.model.CheckpointGroup.CARD
                            : path.replaceFirst("\\.[A-Za-z0-9]+$", "") + ".json";
            String roleName = m.hasPath("role") ? m.getString("role") : "surrogate";
            ModelSpec.Role role;
            try {
                role = ModelSpec.Role.valueOf(roleName.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + ".role: unknown role '" + roleName + "' (surrogate, target or validation)");
            }
            double weight = m.hasPath("weight") ? m.getDouble("weight") : 1.0;
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new ConfigException(key + ".weight must be a positive number, got " + weight);
            }
            boolean augment = !m.hasPath("augment") || m.getBoolean("augment");
            List<DefenseChain> defenses = new ArrayList<>();
            if (m.hasPath("defenses")) {
                if (role == ModelSpec.Role.SURROGATE) {
                    throw new ConfigException(key + ".defenses: only a model with role = target or validation has"
                            + " defended variants");
                }
                List<String> seen = new ArrayList<>();
                ConfigList listed = m.getList("defenses");
                for (int j = 0; j < listed.size(); j++) {
                    String d = m.getStringList("defenses").get(j);
                    Path base = baseFolder(listed.get(j).origin());
                    DefenseChain chain;
                    try {
                        chain = DefenseChain.parse(d);
                    } catch (IllegalArgumentException e) {
                        throw new ConfigException(key + ".defenses: " + e.getMessage(), e);
                    }
                    // A purifier's file is located like a model's: a plain path is made absolute
                    // here (executors run elsewhere), a URI is kept; the canonical chain carries it.
                    chain = chain.withResolvedPaths(loc -> absoluteUri(loc, key + ".defenses '" + d + "': purify path", base));
                    String canonical = chain.spec();
                    if (seen.contains(canonical)) {
                        throw new ConfigException(key + ".defenses: '" + d + "' is listed twice (as " + canonical + ")");
                    }
                    seen.add(canonical);
                    defenses.add(chain);
                }
                if (defenses.isEmpty()) {
                    throw new ConfigException(key + ".defenses must not be empty (use [\"model\"] for the undefended target)");
                }
            } else if (role != ModelSpec.Role.SURROGATE) {
                defenses.add(DefenseChain.NONE);
            }
            if (group && role != ModelSpec.Role.SURROGATE) {
                throw new ConfigException(key + ".group: a checkpoint group is a surrogate (role = surrogate); list a"
                        + " target's files one by one");
            }
            models.add(new ModelSpec(path, card, role, weight, augment, defenses, group));
        }
        if (models.isEmpty()) {
            throw new ConfigException("advspark.models is empty: list the round's models, e.g. models = [{ path ="
                    + " \"models/resnet50.pt\", role = surrogate }, { path = \"models/vit.pt\", role = target }]"
                    + " (the demo's models are only used by `advspark attack` without --config)");
        }
        if (models.stream().noneMatch(m -> m.role() != ModelSpec.Role.VALIDATION)) {
            throw new ConfigException("advspark.models: at least one model with role = surrogate (to attack) or target"
                    + " (to evaluate) is required");
        }
        checkValidationHeldOut(models);

        List<NamedAttack> attacks = attacks(c);
        boolean validation = models.stream().anyMatch(m -> m.role() == ModelSpec.Role.VALIDATION);
        Set<String> attackNames = new java.util.HashSet<>();
        attacks.forEach(a -> attackNames.add(a.name()));
        for (NamedAttack a : attacks) {
            ScoreAware.Search search = a.config().search();
            for (double e : search == null || search.epsPixels().size() < 2 ? List.<Double>of() : search.epsPixels()) {
                String attempt = ScoreAware.attemptName(a.name(), e);
                String problem = io.advspark.vocabulary.Names.problem(attempt);
                if (problem != null || attackNames.contains(attempt)) {
                    throw new ConfigException("attack '" + a.name() + "': its search attempt at eps " + e + " is named '"
                            + attempt + "', which " + (problem != null ? problem : "is also an attack of this round")
                            + " (rename the attack)");
                }
            }
        }
        for (NamedAttack a : attacks) {
            AttackConfig ac = a.config();
            boolean needs = ac.stop() != null && ac.stop().until() == ScoreAware.Until.VALIDATION
                    || ac.search() != null && ac.search().until() == ScoreAware.Until.VALIDATION;
            if (needs && !validation) {
                throw new ConfigException("attack '" + a.name() + "' stops or searches until \"validation\" but"
                        + " advspark.models has no model with role = validation (add one, or use until = \"surrogates\")");
            }
        }

        int batch = c.getInt("batch-size");
        if (batch < 1) {
            throw new ConfigException("advspark.batch-size must be >= 1, got " + batch);
        }
        int maxRows = c.getInt("max-rows");
        if (maxRows < 1) {
            throw new ConfigException("advspark.max-rows must be >= 1, got " + maxRows);
        }
        MemorySettings memory = memorySettings(c);
        String device = c.getString("device");
        if (!device.equals("cpu") && !device.equals("gpu")) {
            throw new ConfigException("advspark.device: '" + device + "' is not one of cpu, gpu (gpu: the GPU Spark"
                    + " assigns each task, see docs/operations.md 'GPU executors')");
        }
        int threads = c.getInt("threads");
        requireNonNegative(threads, "advspark.threads");
        io.advspark.model.Precision precision = io.advspark.model.Precision.parse(c.getString("precision"));
        if (precision == null) {
            throw new ConfigException("advspark.precision: '" + c.getString("precision") + "' is not one of fp32, bf16,"
                    + " fp16 (docs/precision.md)");
        }
        if (precision == io.advspark.model.Precision.FP16 && device.equals("cpu")) {
            throw new ConfigException("advspark.precision = fp16 is for GPUs (advspark.device = gpu), whose tensor cores"
                    + " run it; on a CPU use bf16 (native where the CPU has AVX-512 BF16 or AMX) or fp32"
                    + " (docs/precision.md)");
        }

        Scoring score;
        try {
            score = Scoring.parse(c.getString("evaluate.score"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("advspark.evaluate.score: " + e.getMessage(), e);
        }

        Map<String, String> sparkConf = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : flatten(c.getObject("spark.conf")).entrySet()) {
            sparkConf.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
        }
        return new RoundConfig(
                roundId,
                output,
                dataset,
                models,
                attacks,
                batch,
                device,
                threads,
                c.getString("spark.master"),
                c.getString("spark.app-name"),
                sparkConf,
                score,
                leaseSeconds,
                maxRows,
                memory,
                precision);
    }

    /** {@code advspark.memory}: the memory check before work starts. */
    private static MemorySettings memorySettings(Config c) {
        String check = c.getString("memory.check");
        MemorySettings.Check mode = switch (check) {
            case "refuse" -> MemorySettings.Check.REFUSE;
            case "warn" -> MemorySettings.Check.WARN;
            case "off" -> MemorySettings.Check.OFF;
            default -> throw new ConfigException("advspark.memory.check: '" + check + "' is not one of refuse, warn, off");
        };
        double warn = c.getDouble("memory.warn-fraction");
        if (!(warn > 0 && warn <= 1)) {
            throw new ConfigException("advspark.memory.warn-fraction must be in (0, 1], got " + warn);
        }
        long available;
        try {
            available = c.getBytes("memory.available");
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException("advspark.memory.available: " + e.getMessage() + " (a size such as 16g, or 0 to detect)",
                    e);
        }
        if (available < 0) {
            throw new ConfigException("advspark.memory.available must be >= 0, got " + available);
        }
        return new MemorySettings(mode, warn, available);
    }

    /**
     * The round's attack configurations: {@code advspark.attack} alone (named by its {@code name}),
     * or each entry of {@code advspark.attacks} laid over {@code advspark.attack}; then, if
     * {@code advspark.grid} is set, every attack crossed with every combination of the grid's
     * values, the name suffixed {@code -<key><value>} per key (e.g. {@code mi-di-eps8-steps10}).
     */
    static List<NamedAttack> attacks(Config c) {
        Config base = c.getConfig("attack");
        List<Config> entries = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        List<? extends ConfigObject> list = c.getObjectList("attacks");
        if (list.isEmpty()) {
            entries.add(base);
            keys.add("advspark.attack");
        } else {
            for (int i = 0; i < list.size(); i++) {
                Config e = list.get(i).toConfig();
                if (!e.hasPath("name")) {
                    throw new ConfigException("advspark.attacks[" + i + "].name is required (it names the attack's outputs)");
                }
                entries.add(e.withFallback(base));
                keys.add("advspark.attacks[" + i + "]");
            }
        }
        List<Map<String, Object>> combos = gridCombinations(c.getObject("grid"));
        List<NamedAttack> out = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            for (Map<String, Object> combo : combos) {
                Config e = entries.get(i);
                StringBuilder name = new StringBuilder(e.getString("name"));
                String key = keys.get(i);
                if (!combo.isEmpty()) {
                    e = ConfigFactory.parseMap(combo).withFallback(e);
                    for (Map.Entry<String, Object> g : combo.entrySet()) {
                        name.append('-').append(g.getKey()).append(gridLabel(g.getValue()));
                    }
                    key = key + " (grid " + combo + ")";
                }
                String n = name.toString();
                String problem = io.advspark.vocabulary.Names.problem(n);
                if (problem != null) {
                    throw new ConfigException(key + ".name '" + n + "' " + problem + " (it names a folder)");
                }
                if (!names.add(n)) {
                    throw new ConfigException(key + ".name: the name '" + n + "' is used by two attack configurations");
                }
                out.add(new NamedAttack(n, attackConfig(e, key)));
            }
        }
        return out;
    }

    /** Every combination of the grid's values, keys in configuration order; one empty map for no grid. */
    static List<Map<String, Object>> gridCombinations(ConfigObject grid) {
        List<Map<String, Object>> combos = new ArrayList<>();
        combos.add(new LinkedHashMap<>());
        for (Map.Entry<String, ConfigValue> g : grid.entrySet()) {
            if (g.getValue().valueType() != ConfigValueType.LIST || ((ConfigList) g.getValue()).isEmpty()) {
                throw new ConfigException("advspark.grid." + g.getKey() + " must be a non-empty list of values"
                        + where(g.getValue()));
            }
            List<Map<String, Object>> next = new ArrayList<>();
            for (Map<String, Object> partial : combos) {
                for (ConfigValue v : (ConfigList) g.getValue()) {
                    Map<String, Object> m = new LinkedHashMap<>(partial);
                    m.put(g.getKey(), v.unwrapped());
                    next.add(m);
                }
            }
            combos = next;
        }
        return combos;
    }

    /** A grid value as a name part: numbers without a trailing .0, other characters made path-safe. */
    static String gridLabel(Object v) {
        String s = v instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue())
                ? Long.toString(num.longValue()) : String.valueOf(v);
        return s.replaceAll("[^A-Za-z0-9._-]+", "_").replaceAll("_+$", "");
    }

    /** One attack configuration; {@code key} names it in messages ({@code advspark.attack}, {@code advspark.attacks[2]}). */
    static AttackConfig attackConfig(Config a, String key) {
        double eps = a.getDouble("eps");
        if (!(eps > 0 && eps <= 255)) {
            throw new ConfigException(key + ".eps must be in (0, 255] (0..255 pixel units), got " + eps);
        }
        int steps = a.getInt("steps");
        if (steps < 1 || steps > 100_000) {
            throw new ConfigException(key + ".steps must be in 1..100000, got " + steps);
        }
        ScoreAware.Stop stop = null;
        String stopSet = a.getString("stop").trim().toLowerCase(Locale.ROOT);
        if (!stopSet.isEmpty() && !stopSet.equals("none")) {
            int every = a.getInt("stop-every");
            if (every < 1 || every > 100_000) {
                throw new ConfigException(key + ".stop-every must be in 1..100000, got " + every);
            }
            stop = new ScoreAware.Stop(ScoreAware.Until.parse(stopSet, key + ".stop"), every);
        }
        ScoreAware.Search search = null;
        List<Double> budgets = a.getDoubleList("search.eps");
        if (!budgets.isEmpty()) {
            String mode = a.getString("search.mode").trim().toLowerCase(Locale.ROOT);
            ScoreAware.Mode m = switch (mode) {
                case "ladder" -> ScoreAware.Mode.LADDER;
                case "bisect" -> ScoreAware.Mode.BISECT;
                default -> throw new ConfigException(key + ".search.mode: '" + mode + "' is not ladder or bisect");
            };
            try {
                search = new ScoreAware.Search(budgets,
                        ScoreAware.Until.parse(a.getString("search.until").trim().toLowerCase(Locale.ROOT), key + ".search.until"), m,
                        a.getInt("search.margin"));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + "." + e.getMessage(), e);
            }
            // The budgets replace eps: the step size defaults to the largest budget / steps and
            // scales with each attempt's budget.
            eps = search.maxEps();
        }
        double step = a.getDouble("step-size");
        if (step < 0 || step > 255 || Double.isNaN(step)) {
            throw new ConfigException(key + ".step-size must be in [0, 255] (0 = eps/steps), got " + step);
        }
        if (step == 0) {
            step = eps / steps;
        }
        double decay = a.getDouble("decay");
        if (decay < 0 || Double.isNaN(decay) || Double.isInfinite(decay)) {
            throw new ConfigException(key + ".decay must be >= 0, got " + decay);
        }
        String objName = a.getString("objective");
        AttackConfig.Objective objective;
        try {
            objective = AttackConfig.Objective.valueOf(objName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(
                    key + ".objective: unknown objective '" + objName
                            + "' (untargeted, targeted or weighted)");
        }
        String ensemble = a.getString("ensemble").toLowerCase(Locale.ROOT);
        List<String> modes = Catalogue.names(Kind.ENSEMBLE);
        if (!modes.contains(PartSpec.parse(ensemble).name())) {
            throw new ConfigException(key + ".ensemble: unknown mode '" + ensemble + "' (" + String.join(", ", modes) + ")");
        }
        int copies = a.getInt("copies");
        if (copies < 1 || copies > 1000) {
            throw new ConfigException(key + ".copies must be in 1..1000, got " + copies);
        }
        AttackConfig attack;
        try {
            // Parsed once, here, in the order the attack is built: an unknown part or a bad
            // parameter fails at load, naming the spec; then built once to run the parts' own checks.
            attack = AttackConfig.builder().eps(eps).steps(steps).stepSize(step).decay(decay).objective(objective)
                    .weights(a.getDouble("untargeted-weight"), a.getDouble("targeted-weight"))
                    .update(a.getString("update")).loss(a.getString("loss")).init(a.getString("init"))
                    .inputs(a.getStringList("input")).gradients(a.getStringList("gradient")).filter(a.getString("filter"))
                    .augments(a.getStringList("augment")).ensemble(ensemble).copies(copies).stop(stop).search(search)
                    .metTopK(a.getInt("met-top-k")).build();
            attack.toAttack();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key + ": " + e.getMessage(), e);
        }
        return attack;
    }

    /**
     * A validation model chooses which images are kept: scoring the round on the same model (as a
     * target) would measure the choice, not the transfer; attacking it (as a surrogate) makes it
     * white-box. Both are refused, naming the two entries. Files are compared by location.
     */
    static void checkValidationHeldOut(List<ModelSpec> models) {
        for (int i = 0; i < models.size(); i++) {
            ModelSpec v = models.get(i);
            if (v.role() != ModelSpec.Role.VALIDATION) {
                continue;
            }
            for (int j = 0; j < models.size(); j++) {
                ModelSpec o = models.get(j);
                if (j != i && o.role() != ModelSpec.Role.VALIDATION && sameFile(o.path(), v.path())) {
                    throw new ConfigException("advspark.models[" + i + "] (role = validation) and advspark.models[" + j
                            + "] (role = " + o.role().name().toLowerCase(Locale.ROOT) + ") are the same model " + v.path()
                            + ": a validation model must be held out of the attack and of the scoring (hold out another"
                            + " model for validation, or use attack.stop / attack.search until = \"surrogates\")");
                }
            }
        }
    }

    private static boolean sameFile(String a, String b) {
        return a.equals(b) || a.startsWith(b + "/") || b.startsWith(a + "/");
    }

    private static void requireNonNegative(int v, String key) {
        if (v < 0) {
            throw new ConfigException(key + " must be >= 0, got " + v);
        }
    }

    /**
     * Makes a location absolute so that executors, whose working directory differs, find it:
     * a URI with a scheme is kept, a plain path becomes {@code file:/abs/path}.
     */
    public static String absoluteUri(String location, String key) {
        return absoluteUri(location, key, null);
    }

    /** The string at {@code path} of {@code c} as an absolute URI, a relative path resolved against its origin's folder. */
    private static String location(Config c, String path, String key) {
        return absoluteUri(c.getString(path), key, baseFolder(c.getValue(path).origin()));
    }

    /**
     * The folder a value's relative paths resolve against: its file's folder, the installation
     * for the embedded demo, null (the working directory) for {@code --set} values and defaults.
     */
    static Path baseFolder(com.typesafe.config.ConfigOrigin origin) {
        if (origin == null) {
            return null;
        }
        if (origin.resource() != null) {
            // A classpath resource (its filename is set too when the classes are a folder).
            return ("/" + origin.resource()).equals(DEMO_RESOURCE) ? home() : null;
        }
        if (origin.filename() != null) {
            return Path.of(origin.filename()).toAbsolutePath().getParent();
        }
        return null;
    }

    /**
     * The installation: {@value #HOME_PROPERTY} when set, else the folder above {@code target/}
     * that holds these classes (a build of the repository, run in place) if it has the demo set,
     * else null (the working folder).
     */
    static Path home() {
        String home = System.getProperty(HOME_PROPERTY);
        if (home != null && !home.isBlank()) {
            return Path.of(home);
        }
        try {
            Path code = Path.of(ConfigLoader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = code; p != null; p = p.getParent()) {
                if (p.getFileName() != null && p.getFileName().toString().equals("target")) {
                    Path root = p.getParent();
                    return root != null && java.nio.file.Files.isDirectory(root.resolve("demo")) ? root : null;
                }
            }
        } catch (RuntimeException | java.net.URISyntaxException e) {
            // no code source (a custom class loader): the working folder
        }
        return null;
    }

    /**
     * {@code location} as an absolute URI: a URI is kept, a path resolved against {@code base}
     * (null: the working directory).
     */
    public static String absoluteUri(String location, String key, Path base) {
        if (location == null || location.isBlank()) {
            throw new ConfigException(key + " must not be empty");
        }
        if (location.matches("^[A-Za-z][A-Za-z0-9+.-]*://.*") || location.startsWith("file:")) {
            try {
                URI uri = URI.create(location);
                if (uri.getUserInfo() != null) {
                    throw new ConfigException(
                            key + ": credentials inside a URI are not allowed; use the Hadoop/AWS provider chain");
                }
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + ": not a valid URI: " + Secrets.redactUris(e.getMessage()));
            }
            return location;
        }
        Path p = base == null ? Path.of(location) : base.resolve(location);
        return p.toAbsolutePath().normalize().toUri().toString().replaceFirst("/$", "");
    }

    /** {@code s} as a quoted HOCON string, for building a {@code --set} value from a plain one. */
    public static String quote(String s) {
        return ConfigValueQuote.quote(s);
    }

    /** HOCON string quoting for override values that are not valid HOCON on their own. */
    static final class ConfigValueQuote {
        static String quote(String s) {
            return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
    }
}
