package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plan the driver ships to its tasks survives Java serialisation whole, typed values and all. */
class PlanSerializationTest {

    @Test
    void aPlanWithEveryKindOfSpecRoundTripsThroughSerialisation() throws Exception {
        RoundConfig plan = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of(
                "models=[{path=\"demo/models/tiny_a.pt\", role=surrogate},"
                        + " {path=\"demo/models/tiny_b.pt\", role=target, defenses=[\"model\", \"jpeg(75) > rp > model\"]}]",
                "attack.update=\"vni(n=3)\"", "attack.input=[\"di(p=0.7)\", \"admix\"]",
                "attack.gradient=[\"ti(size=7, sigma=2)\"]", "attack.loss=\"margin(kappa=5)\"",
                "attack.init=\"perlin(period=20)\"", "attack.filter=\"dct(keep=0.5)\"", "attack.ensemble=probs",
                "attack.augment=[\"dropout(p=0.01)\"]", "evaluate.score=\"nips2017(targeted=true)\""));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(plan);
        }
        RoundConfig back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (RoundConfig) in.readObject();
        }
        assertEquals(plan, back);
        assertEquals(plan.attack().toAttack().spec(), back.attack().toAttack().spec());
        assertEquals("nips2017(targeted=true)", back.score().spec());
        assertEquals("jpeg(quality=75) > rp(ratio=1.1070) > model", back.targets().get(0).defenses().get(1).spec());
    }
}
