//! `wrapup queues list|create|add-codes`: queues, their after-call-work settings and their
//! wrap-up codes (docs/api.md#queues-and-agents).

use clap::{Subcommand, ValueEnum};
use uuid::Uuid;
use wrapup_types::{AcwPrompt, AcwSettings, Queue, QueueRequest};

use crate::commands::ids::{code_id, division_id};
use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;
use crate::render::{print_json, print_list};

/// The examples of `wrapup queues --help`.
pub const HELP: &str = examples!(
    "wrapup queues list",
    "wrapup queues create --division 00000000-0000-4000-8000-0000000000a1 --name \"Sales timeout\" --prompt timeout --timeout-ms 30000",
    "wrapup queues add-codes 00000000-0000-4000-8000-0000000000b3 00000000-0000-4000-8000-0000000000c1",
);

/// A queue's wrap-up prompt, as the CLI spells it.
#[derive(Clone, Copy, ValueEnum)]
pub enum Prompt {
    Mandatory,
    Optional,
    Timeout,
    ForcedTimeout,
    AgentRequested,
}

impl Prompt {
    fn setting(self) -> AcwPrompt {
        match self {
            Prompt::Mandatory => AcwPrompt::Mandatory,
            Prompt::Optional => AcwPrompt::Optional,
            Prompt::Timeout => AcwPrompt::MandatoryTimeout,
            Prompt::ForcedTimeout => AcwPrompt::MandatoryForcedTimeout,
            Prompt::AgentRequested => AcwPrompt::AgentRequested,
        }
    }
}

#[derive(Subcommand)]
pub enum QueuesCommand {
    /// List the queues: id, name, division, prompt and timeout.
    #[command(help_template = examples!("wrapup queues list", "wrapup queues list --json"))]
    List,
    /// Create a queue in a division, with its wrap-up prompt.
    #[command(help_template = examples!(
        "wrapup queues create --division $DIV --name Sales",
        "wrapup queues create --division $DIV --name \"Sales timeout\" --prompt timeout --timeout-ms 30000",
    ))]
    Create {
        /// The queue's division id (`wrapup divisions list` shows them); its codes
        /// must be of the same division.
        #[arg(long, value_parser = division_id)]
        division: Uuid,
        /// 1 to 100 characters, unique ignoring case.
        #[arg(long)]
        name: String,
        /// What the agent is asked after the call (docs/api.md#queues-and-agents): a code is
        /// required (mandatory), may be skipped (optional, agent-requested), or the system
        /// applies ININ-WRAP-UP-TIMEOUT when --timeout-ms passes without one (timeout;
        /// forced-timeout also keeps after-call work open until then).
        #[arg(long, value_enum, default_value = "mandatory")]
        prompt: Prompt,
        /// Required with --prompt timeout and forced-timeout: 1000 to 86400000.
        #[arg(long)]
        timeout_ms: Option<u32>,
        /// Free text shown with the queue, at most 1024 characters.
        #[arg(long)]
        description: Option<String>,
    },
    /// Add wrap-up codes (of the queue's division) to a queue, and list its codes.
    #[command(help_template = examples!(
        "wrapup queues add-codes 00000000-0000-4000-8000-0000000000b3 00000000-0000-4000-8000-0000000000c1",
    ))]
    AddCodes {
        queue: Uuid,
        #[arg(required = true, value_parser = code_id)]
        codes: Vec<Uuid>,
    },
}

fn queue_line(q: &Queue) -> String {
    let timeout = q
        .acw_settings
        .timeout_ms
        .map_or_else(String::new, |ms| format!(" {ms} ms"));
    format!(
        "{}  {}  division {}  prompt {}{timeout}",
        q.id,
        q.name,
        q.division.name,
        q.acw_settings.wrapup_prompt.prompt()
    )
}

pub async fn run(cmd: QueuesCommand, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = global.client(sources)?;
    match cmd {
        QueuesCommand::List => {
            let listing = client.list_queues().await?;
            print_list(global.json, &listing.entities, None, queue_line, "queues")?;
        }
        QueuesCommand::Create {
            division,
            name,
            prompt,
            timeout_ms,
            description,
        } => {
            let body = QueueRequest {
                name,
                division_id: Some(division),
                division: None,
                description,
                acw_settings: Some(AcwSettings {
                    wrapup_prompt: prompt.setting(),
                    timeout_ms,
                }),
            };
            let queue = client.create_queue(&body).await?;
            if global.json {
                print_json(&queue)?;
            } else {
                println!("{}", queue_line(&queue));
            }
        }
        QueuesCommand::AddCodes { queue, codes } => {
            client.add_queue_codes(queue, &codes).await?;
            let listing = client.queue_codes(queue).await?;
            print_list(
                global.json,
                &listing.entities,
                None,
                |c| format!("{}  {}", c.code.id, c.code.name),
                "codes",
            )?;
        }
    }
    Ok(exit::OK)
}
