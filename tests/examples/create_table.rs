//! Creates the store's DynamoDB table (the layout of `shared::adapters::dynamodb::create_table`) on the emulator
//! the environment names, for running the Lambda functions locally with `cargo lambda watch` against moto. A table
//! that already exists is left as it is (one line says so), so the command can be run again after moto restarts
//! or not.
//!
//! Run: `cargo run -p tests --example create_table -- <table-name>` (env: `AWS_ENDPOINT_URL`, default
//! `http://127.0.0.1:5000`).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Some(table) = std::env::args().nth(1) else {
        anyhow::bail!("usage: create_table <table-name>");
    };
    let client = tests::moto::dynamodb().await;
    let endpoint = tests::moto::endpoint();
    if client
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .is_ok()
    {
        println!("table {table} already exists at {endpoint}; left as it is");
        return Ok(());
    }
    shared::adapters::dynamodb::create_table(&client, &table).await?;
    println!("created table {table} at {endpoint}");
    Ok(())
}
