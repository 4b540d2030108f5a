//! The write operations of queues and agents (docs/api.md#queues-and-agents): each one type,
//! defined once for both backends, like those of `ops.rs`.

use uuid::Uuid;
use wrapup_domain::names::name_key;
use wrapup_types::WrapupPrompt;

use crate::error::StoreError;
use crate::records::{QueueRecord, UserRecord};
use crate::write::{WriteError, WriteOp, WriteTx};

fn queue_name_conflict(name: &str) -> String {
    format!("a queue named \"{name}\" already exists")
}

/// Stores a new queue; `Conflict` if its name is taken.
pub(crate) struct CreateQueue(pub QueueRecord);

impl WriteOp for CreateQueue {
    type Output = QueueRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<QueueRecord, WriteError> {
        let seq = tx
            .insert_queue(&self.0, &name_key(&self.0.name))
            .await?
            .ok_or_else(|| StoreError::Conflict(self.conflict()))?;
        Ok(QueueRecord {
            seq,
            ..self.0.clone()
        })
    }

    fn conflict(&self) -> String {
        queue_name_conflict(&self.0.name)
    }
}

/// Renames a queue, describes it, or changes its after-call-work settings; `Conflict` if
/// the name is taken by another queue.
pub(crate) struct UpdateQueue {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub prompt: WrapupPrompt,
    pub timeout_ms: Option<u32>,
    pub now_ms: i64,
}

impl WriteOp for UpdateQueue {
    type Output = QueueRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<QueueRecord, WriteError> {
        let mut queue = tx
            .queue_for_update(self.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let key = name_key(&self.name);
        if tx.queue_name_taken(&key, self.id).await? {
            return Err(StoreError::Conflict(self.conflict()).into());
        }
        queue.name = self.name.clone();
        queue.description = self.description.clone();
        queue.prompt = self.prompt;
        queue.timeout_ms = self.timeout_ms;
        queue.modified_ms = self.now_ms;
        tx.save_queue(&queue, &key).await?;
        Ok(queue)
    }

    fn conflict(&self) -> String {
        queue_name_conflict(&self.name)
    }
}

/// Deletes a queue; `NotFound` if there is none. Its interactions keep its id.
pub(crate) struct DeleteQueue {
    pub id: Uuid,
}

impl WriteOp for DeleteQueue {
    type Output = ();

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<(), WriteError> {
        if tx.delete_queue(self.id).await? {
            Ok(())
        } else {
            Err(StoreError::NotFound.into())
        }
    }
}

/// Adds codes to a queue (those it has already are kept where they are) and removes others.
pub(crate) struct ChangeQueueCodes {
    pub id: Uuid,
    pub add: Vec<Uuid>,
    pub remove: Vec<Uuid>,
    pub now_ms: i64,
}

impl WriteOp for ChangeQueueCodes {
    type Output = QueueRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<QueueRecord, WriteError> {
        let mut queue = tx
            .queue_for_update(self.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        for id in &self.add {
            if !queue.code_ids.contains(id) {
                queue.code_ids.push(*id);
            }
        }
        queue.code_ids.retain(|id| !self.remove.contains(id));
        queue.modified_ms = self.now_ms;
        tx.save_queue(&queue, &name_key(&queue.name)).await?;
        Ok(queue)
    }
}

/// Stores a new agent.
pub(crate) struct CreateUser(pub UserRecord);

impl WriteOp for CreateUser {
    type Output = UserRecord;

    async fn run<T: WriteTx>(&self, tx: &mut T) -> Result<UserRecord, WriteError> {
        let seq = tx
            .insert_user(&self.0, &name_key(&self.0.name))
            .await?
            .ok_or_else(|| StoreError::Conflict(self.conflict()))?;
        Ok(UserRecord {
            seq,
            ..self.0.clone()
        })
    }

    fn conflict(&self) -> String {
        format!("user {} already exists", self.0.id)
    }
}
