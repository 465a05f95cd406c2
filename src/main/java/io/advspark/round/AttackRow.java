package io.advspark.round;

import io.advspark.attack.Attack;
import io.advspark.plan.AttackConfig;
import java.util.List;
import java.util.Locale;

/**
 * One row of the {@code attacks} table ({@link RecordTables#ATTACKS}): an attack configuration of
 * the round with its canonical part specs and what its images are made with. The component order
 * is the table's column order, checked by {@link #values()}. A part the attack does not use (no
 * input or gradient transform, filter or augmentation) is null.
 */
public record AttackRow(
        String attack,
        String attackSpec,
        double eps,
        int steps,
        double stepSize,
        String update,
        String input,
        String gradient,
        String loss,
        String init,
        String filter,
        String ensemble,
        String objective,
        int copies,
        String augment,
        String modelSha256,
        String cardSha256,
        String surrogateSettings,
        String manifestSha256,
        String precision) {

    /** The row of attack configuration {@code name}, whose built attack is {@code attack}. */
    public static AttackRow of(String name, String identity, AttackConfig config, Attack attack, Provenance provenance) {
        return new AttackRow(name, identity, config.epsPixels(), config.steps(), config.stepSizePixels(),
                attack.update().spec(), joined(attack.inputs().stream().map(x -> x.spec()).toList()),
                joined(attack.gradients().stream().map(x -> x.spec()).toList()), attack.loss().spec(),
                attack.init().spec(), attack.filter() == null ? null : attack.filter().spec(), config.ensemble().spec(),
                config.objective().name().toLowerCase(Locale.ROOT), config.copies(),
                joined(attack.augments().stream().map(x -> x.spec()).toList()), provenance.modelSha256(),
                provenance.cardSha256(), provenance.surrogateSettings(), provenance.manifestSha256(),
                provenance.precision());
    }

    /** The specs {@code ; }-separated in order; null for none (an absent part is null, never {@code ""}). */
    private static String joined(List<String> specs) {
        return specs.isEmpty() ? null : String.join("; ", specs);
    }

    /** The row's values in column order, checked against the schema. */
    public Object[] values() {
        return RecordTables.ATTACKS.check(new Object[] {
            attack, attackSpec, eps, steps, stepSize, update, input, gradient, loss, init, filter, ensemble, objective,
            copies, augment, modelSha256, cardSha256, surrogateSettings, manifestSha256, precision
        });
    }
}
