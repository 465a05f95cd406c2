package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.augment.Augments;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.data.Storage;
import io.advspark.model.Ensemble;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelLoader;
import io.advspark.model.ModelSource;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.plan.ConfigLoader;
import io.advspark.plan.ModelSpec;
import io.advspark.plan.RoundConfig;
import io.advspark.testing.Fixtures;
import io.advspark.testing.Shared;
import io.advspark.vocabulary.ConfigException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checkpoint groups end to end: a group collected by tools/collect_checkpoints.py (the shared CIFAR
 * ResNet-20 fine-tuned for four SGD steps on 16 shared images, into target/) loads through the
 * model loader as one entry, a member that does not fit is refused naming its file, and an attack
 * with {@code checkpoints(per-step=2)} gives every image the same pixels alone or in any batch and
 * under any row cap, sending each member only the rows of the images that drew it.
 */
class CheckpointsTest {
    static final Storage STORAGE = Storage.of(new Configuration());
    static Path group;

    @BeforeAll
    static void collect() throws Exception {
        Shared.python();
        TorchRuntime.start(ParityHarness.THREADS);
        group = collectGroup(Path.of("target", "checkpoints-test").toAbsolutePath(), "r20lgv");
    }

    /**
     * Collects a 3-member group of the shared ResNet-20 into {@code parent/name} (once per build):
     * one epoch of four SGD steps (batches of 4 of images 100..115, learning rate 0.05), checkpoints
     * after steps 1, 3 and 4.
     */
    static Path collectGroup(Path parent, String name) throws Exception {
        Path out = parent.resolve(name);
        if (Files.isRegularFile(out.resolve("group.json"))) {
            return out;
        }
        Files.createDirectories(parent);
        Path src = Shared.root().resolve("models/cifar10/src");
        List<String> cmd = List.of(Path.of("tools/collect_checkpoints.py").toAbsolutePath().toString(),
                "--module", src.resolve("cifar_archs.py").toString(), "--constructor", "CifarResNet(20)",
                "--weights", src.resolve("resnet20.pth").toString(),
                "--base-card", Shared.cifarModel("resnet20").toString().replace(".pt", ".json"),
                "--data", Shared.cifar10().toString(), "--offset", "100", "--limit", "16", "--batch-size", "4",
                "--epochs", "1", "--per-epoch", "3", "--out", out.toString(), "--name", name, "--threads", "2");
        Process p = Shared.pythonProcess(new ArrayList<>(cmd)).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "collect_checkpoints timed out");
        assertEquals(0, p.exitValue(), "collect_checkpoints failed:\n" + log);
        return out;
    }

    static ModelSource groupSource(Path dir, double weight) {
        return new ModelSource(dir.toString(), dir.resolve("group.json").toString(), weight, true, true);
    }

    static ModelSource file(Path pt) {
        return new ModelSource(pt.toString(), pt.toString().replace(".pt", ".json"), 1.0, true);
    }

    @Test
    void aGroupLoadsAsItsMembersSharingItsWeight() {
        List<ModelBundle> b = ModelLoader.load(List.of(groupSource(group, 2.0), file(Shared.cifarModel("resnet32"))),
                STORAGE, ParityHarness.THREADS);
        assertEquals(4, b.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(String.format("r20lgv_%03d", i), b.get(i).card().name());
            assertEquals(group.toString(), b.get(i).group());
            assertEquals(2.0 / 3, b.get(i).weight(), 1e-12);
        }
        assertNull(b.get(3).group());
        // A glob of the same files; a folder without a group card takes its .pt files in name order.
        List<ModelBundle> glob = ModelLoader.load(List.of(new ModelSource(group + "/r20lgv_00*.pt", null, 1.0, true, true)),
                STORAGE, ParityHarness.THREADS);
        assertEquals(List.of("r20lgv_000", "r20lgv_001", "r20lgv_002"), glob.stream().map(x -> x.card().name()).toList());
    }

    @Test
    void aMemberThatDoesNotFitIsRefusedByName() throws Exception {
        Path bad = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "bad-group");
        for (String f : new String[] {"r20lgv_000.pt", "r20lgv_000.json", "r20lgv_001.pt", "r20lgv_001.json"}) {
            Files.copy(group.resolve(f), bad.resolve(f));
        }
        Path card = bad.resolve("r20lgv_001.json");
        Files.writeString(card, Files.readString(card).replaceFirst("0\\.485", "0.5"));
        ConfigException e = assertThrows(ConfigException.class, () -> ModelLoader.load(
                List.of(new ModelSource(bad.toString(), bad.resolve("group.json").toString(), 1.0, true, true)), STORAGE,
                ParityHarness.THREADS));
        assertTrue(e.getMessage().contains(bad.resolve("r20lgv_001.pt").toString()) && e.getMessage().contains("mean"),
                e.getMessage());
        Path empty = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "empty-group");
        ConfigException none = assertThrows(ConfigException.class, () -> ModelLoader.load(
                List.of(new ModelSource(empty.toString(), empty.resolve("group.json").toString(), 1.0, true, true)),
                STORAGE, ParityHarness.THREADS));
        assertTrue(none.getMessage().contains("has no members"), none.getMessage());
    }

    @Test
    void configEntriesNameAGroup() {
        RoundConfig c = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("advspark.models=[{group=\"" + group + "/\", weight=2}]",
                "advspark.attack.augment=[\"checkpoints(per-step=2)\"]"));
        ModelSpec s = c.models().get(0);
        assertTrue(s.group());
        assertEquals(group.toUri().toString().replaceFirst("/$", ""), s.path());
        assertTrue(s.card().endsWith("/group.json"));
        assertEquals("checkpoints(per-step=2)", c.attack().augment().get(0).render());
        ConfigException both = assertThrows(ConfigException.class, () -> ConfigLoader.load(io.advspark.testing.Rounds.TINY,
                List.of("advspark.models=[{group=\"" + group + "\", path=\"x.pt\"}]")));
        assertTrue(both.getMessage().contains("both path and group"), both.getMessage());
        // More members drawn than the group has, or no group at all: refused on the driver.
        Attack four = AttackConfig.builder().augment("checkpoints(per-step=4)").build().toAttack();
        List<ModelBundle> b = ModelLoader.load(List.of(groupSource(group, 1.0)), STORAGE, ParityHarness.THREADS);
        ConfigException big = assertThrows(ConfigException.class, () -> Augments.checkGroups("a", four, b));
        assertTrue(big.getMessage().contains("fewer than per-step=4"), big.getMessage());
        Attack two = AttackConfig.builder().augment("checkpoints(per-step=2)").build().toAttack();
        ConfigException single = assertThrows(ConfigException.class, () -> Augments.checkGroups("a", two,
                ModelLoader.load(List.of(file(Shared.cifarModel("resnet32"))), STORAGE, ParityHarness.THREADS)));
        assertTrue(single.getMessage().contains("checkpoint group"), single.getMessage());
    }

    @Test
    void anImageComesOutTheSameInAnyBatchAndUnderAnyRowCap() throws Exception {
        Attack attack = AttackConfig.builder().eps(8).steps(3).stepSize(2).update("mi(decay=1.0)")
                .inputs(List.of("di(p=0.5, resize=1.1)")).copies(2).augment("checkpoints(per-step=2)").build().toAttack();
        List<ModelBundle> bundles = ModelLoader.load(List.of(groupSource(group, 1.0), file(Shared.cifarModel("resnet32"))),
                STORAGE, ParityHarness.THREADS);
        List<ManifestRow> rows = Fixtures.manifest(Shared.cifar10(), 0, 6);
        List<RgbImage> images = Fixtures.images(Shared.cifar10(), rows);
        int per = 3 * 32 * 32;
        try (Ensemble ens = Ensemble.load(bundles); NDManager m = TorchRuntime.newManager(Device.cpu())) {
            assertEquals(List.of(List.of(0, 1, 2)), ens.groups().stream().map(g -> Arrays.stream(g).boxed().toList()).toList());
            int[][] forwards = new int[3][4]; // per step, rows through each member
            float[] all = run(attack, ens, m, rows, images, 0, 6, AttackEngine.DEFAULT_MAX_ROWS, (t, member, r) -> forwards[t][member] += r);
            for (int t = 0; t < 3; t++) {
                // 6 images x 2 copies, each through 2 of the 3 checkpoints and through resnet32.
                assertEquals(24, forwards[t][0] + forwards[t][1] + forwards[t][2], "step " + t + ": " + Arrays.toString(forwards[t]));
                assertEquals(12, forwards[t][3]);
            }
            for (int[] range : new int[][] {{0, 1}, {2, 5}, {5, 6}, {1, 3}}) {
                float[] part = run(attack, ens, m, rows, images, range[0], range[1], AttackEngine.DEFAULT_MAX_ROWS, null);
                assertArrayEquals(Arrays.copyOfRange(all, range[0] * per, range[1] * per), part,
                        "images " + range[0] + ".." + (range[1] - 1) + " differ from the same images in a batch of 6");
            }
            for (int cap : new int[] {1, 5}) {
                assertArrayEquals(all, run(attack, ens, m, rows, images, 0, 6, cap, null), "max-rows " + cap);
            }
            // Without the augmentation the group is the average of its members: another result.
            Attack plain = AttackConfig.builder().eps(8).steps(3).stepSize(2).update("mi(decay=1.0)")
                    .inputs(List.of("di(p=0.5, resize=1.1)")).copies(2).build().toAttack();
            assertTrue(!Arrays.equals(all, run(plain, ens, m, rows, images, 0, 6, AttackEngine.DEFAULT_MAX_ROWS, null)));
        }
    }

    interface Forwards {
        void on(int step, int member, int rows);
    }

    private static float[] run(Attack attack, Ensemble ens, NDManager m, List<ManifestRow> rows, List<RgbImage> images,
            int from, int to, int cap, Forwards forwards) throws Exception {
        List<ManifestRow> r = rows.subList(from, to);
        float[] clean = Fixtures.batch(images.subList(from, to));
        int[] y = r.stream().mapToInt(ManifestRow::trueLabel).toArray();
        long[] seeds = r.stream().mapToLong(x -> Draws.seedFor("ckpt", attack.spec(), x.imageId())).toArray();
        StepObserver obs = forwards == null ? null : new StepObserver() {
            @Override
            public void onStep(int step, ai.djl.ndarray.NDArray x, ai.djl.ndarray.NDArray momentum,
                    ai.djl.ndarray.NDArray grad, ai.djl.ndarray.NDArray nextX, ai.djl.ndarray.NDArray nextMomentum) {}

            @Override
            public void onForward(int step, int member, String model, int n) {
                forwards.on(step, member, n);
            }
        };
        return new AttackEngine(attack, ens, cap).run(clean, new long[] {to - from, 3, 32, 32}, y, y, new Draws(seeds), m, obs);
    }
}
