package io.advspark.testing;

import java.util.List;

/**
 * The credential keys the redaction rule must cover (issue 13), as Hadoop and Spark spell them,
 * and keys that must stay readable. Shared by the unit tests of the rule (Java and bash), the
 * config checks and the end-to-end leak test.
 */
public final class CredentialKeys {
    private CredentialKeys() {}

    /** Hadoop keys (given to Spark with the {@code spark.hadoop.} prefix) and Spark's own secrets. */
    public static final List<String> SECRET = List.of(
            "fs.s3a.access.key",
            "fs.s3a.secret.key",
            "fs.s3a.session.token",
            "fs.s3a.encryption.key",
            "fs.s3a.server-side-encryption.key",
            "fs.s3a.bucket.team-bucket.secret.key",
            "fs.s3a.bucket.team-bucket.session.token",
            "fs.azure.account.key.myaccount.dfs.core.windows.net",
            "fs.azure.account.oauth2.client.secret",
            "fs.azure.sas.fixed.token",
            "fs.gs.auth.service.account.private.key",
            "fs.gs.auth.service.account.json.keyfile",
            "fs.gs.auth.client.secret",
            "fs.oss.accessKeySecret",
            "fs.oss.accessKeyId",
            "fs.s3.awsAccessKeyId",
            "fs.s3n.awsSecretAccessKey",
            "fs.ftp.password.localhost",
            "hadoop.security.group.mapping.ldap.bind.password",
            "ssl.server.keystore.password",
            "javax.jdo.option.ConnectionPassword",
            "legacy.db.passwd");

    /** Spark-side secrets (no {@code spark.hadoop.} prefix). */
    public static final List<String> SPARK_SECRET = List.of(
            "spark.authenticate.secret",
            "spark.ssl.keyPassword",
            "spark.ssl.keyStorePassword",
            "spark.executorEnv.AWS_SECRET_ACCESS_KEY",
            "spark.executorEnv.AWS_SESSION_TOKEN",
            "spark.executorEnv.AWS_ACCESS_KEY_ID");

    /** Environment variables holding credentials. */
    public static final List<String> ENV_SECRET = List.of(
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_CLIENT_SECRET",
            "GOOGLE_API_KEY", "HADOOP_CREDSTORE_PASSWORD");

    /** Keys that must not be masked (nor refused in a round's spark.conf). */
    public static final List<String> NOT_SECRET = List.of(
            "spark.executor.memory",
            "fs.s3a.endpoint",
            "spark.hadoop.fs.s3a.endpoint.region",
            "spark.hadoop.fs.s3a.path.style.access",
            "spark.hadoop.fs.s3a.aws.credentials.provider",
            "spark.hadoop.fs.s3a.bucket.b.aws.credentials.provider",
            "spark.hadoop.hadoop.security.credential.provider.path",
            "spark.sql.session.timeZone",
            "spark.eventLog.dir",
            "spark.executor.extraJavaOptions",
            "spark.sql.shuffle.partitions",
            "spark.kubernetes.container.image",
            "spark.io.encryption.keySizeBits",
            "monkey.business");
}
