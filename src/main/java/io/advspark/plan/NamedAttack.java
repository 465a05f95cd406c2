package io.advspark.plan;

/**
 * One attack configuration of a round, under the name that keys its outputs:
 * {@code images/<name>/} and the {@code attack=<name>} partitions of the tables.
 *
 * @param name letters, digits, '.', '_' and '-'
 * @param config the attack
 */
public record NamedAttack(String name, AttackConfig config) implements java.io.Serializable {}
