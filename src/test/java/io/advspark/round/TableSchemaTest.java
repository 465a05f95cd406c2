package io.advspark.round;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.advspark.plan.AttackConfig;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The typed rows and their schemas, without Spark. */
class TableSchemaTest {

    @Test
    void recordComponentsAreTheRecordsColumnsInOrder() {
        // The component order is the column order: camelCase of each column name.
        List<String> components = java.util.Arrays.stream(AttackRecord.class.getRecordComponents())
                .map(RecordComponent::getName).map(TableSchemaTest::snake).toList();
        assertEquals(RecordTables.RECORDS.names(), components);
    }

    @Test
    void attackRowComponentsAreTheAttacksColumnsAndHoldCanonicalSpecs() {
        List<String> components = java.util.Arrays.stream(AttackRow.class.getRecordComponents())
                .map(RecordComponent::getName).map(TableSchemaTest::snake).toList();
        assertEquals(RecordTables.ATTACKS.names(), components);
        AttackConfig c = AttackConfig.builder().eps(16).update("ni").input("di(p=0.7)", "si").filter("none")
                .augment("dropout( p = 0.1 )").build();
        AttackRow row = AttackRow.of("mi-di", c.toAttack().spec(), c, c.toAttack(), new Provenance(List.of(), "m.csv", "ff"));
        Object[] v = row.values();
        assertEquals("ni(decay=1)", v[RecordTables.ATTACKS.index("update")]);
        assertEquals("di(p=0.7,resize=1.1); si(copies=5)", v[RecordTables.ATTACKS.index("input")]);
        assertNull(v[RecordTables.ATTACKS.index("filter")], "no filter: null, not \"none\"");
        assertEquals("logits", v[RecordTables.ATTACKS.index("ensemble")]);
        assertEquals("dropout(p=0.1)", v[RecordTables.ATTACKS.index("augment")]);
        assertEquals(1.6, v[RecordTables.ATTACKS.index("step_size")]);
        assertEquals(c.toAttack().spec(), v[RecordTables.ATTACKS.index("attack_spec")]);
        // An absent part is null, never "": no gradient transform, no augmentation.
        AttackConfig plain = AttackConfig.builder().eps(8).build();
        Object[] p = AttackRow.of("mi", plain.toAttack().spec(), plain, plain.toAttack(),
                new Provenance(List.of(), "m.csv", "ff")).values();
        for (String part : List.of("input", "gradient", "filter", "augment")) {
            assertNull(p[RecordTables.ATTACKS.index(part)], part);
        }
    }

    @Test
    void aBuiltRecordFillsItsColumnsAndLeavesTheRestNull() {
        AttackRecord r = AttackRecord.builder().roundId("r").attackSpec("eps=8").imageId("a.png").manifestRow(3)
                .trueLabel(5).linf(8).l2(1.5).wallMs(12L).pngBytes(100L).pngCrc32c(7L)
                .provenance(new Provenance(List.of(), "m.csv", "ff")).build();
        Object[] v = r.values();
        assertEquals("a.png", v[RecordTables.RECORDS.index("image_id")]);
        assertEquals(3, v[RecordTables.RECORDS.index("manifest_row")]);
        assertEquals(1.5, v[RecordTables.RECORDS.index("l2")]);
        assertEquals("ff", v[RecordTables.RECORDS.index("manifest_sha256")]);
        assertEquals(null, v[RecordTables.RECORDS.index("error")]);
    }

    @Test
    void aValueOfTheWrongTypeOrAMissingRequiredOneIsRefusedNamingTheColumn() {
        TableSchema s = TableSchema.of("t", Column.required("a", ColumnType.STRING), Column.optional("b", ColumnType.INT));
        assertArrayEquals(new Object[] {"x", null}, s.check(new Object[] {"x", null}));
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> s.check(new Object[] {"x", 1L}));
        assertTrue(wrong.getMessage().contains("b=Long 1"), wrong.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> s.check(new Object[] {null, 1}));
        assertTrue(missing.getMessage().contains("a=null"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.check(new Object[] {"x"}));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> s.index("c"));
        assertTrue(unknown.getMessage().contains("'c'"), unknown.getMessage());
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }
}
