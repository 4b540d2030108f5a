//! The ids of a conversation's participants and communications: name-based UUIDs (version
//! 5) of the interaction id, so they are the same on every read and every node, and
//! nothing is stored for them (docs/genesys.md#ids).

use sha1::{Digest, Sha1};
use uuid::Uuid;
use wrapup_types::genesys::Purpose;

/// Which participant of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Customer,
    Agent,
}

impl Role {
    pub const fn purpose(self) -> Purpose {
        match self {
            Role::Customer => Purpose::Customer,
            Role::Agent => Purpose::Agent,
        }
    }
}

/// The ids of the two participants of an interaction and of their one communication each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationIds {
    pub customer: Uuid,
    pub agent: Uuid,
    pub customer_communication: Uuid,
    pub agent_communication: Uuid,
}

/// A version 5 UUID (RFC 9562 §5.5): SHA-1 of the namespace's bytes and the name.
fn name_based(namespace: Uuid, name: &str) -> Uuid {
    let mut hash = Sha1::new();
    hash.update(namespace.as_bytes());
    hash.update(name.as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

impl ConversationIds {
    /// The ids of interaction `interaction_id` (Python: `uuid.uuid5(interaction_id,
    /// "participant/agent")`, and so on).
    pub fn of(interaction_id: Uuid) -> ConversationIds {
        ConversationIds {
            customer: name_based(interaction_id, "participant/customer"),
            agent: name_based(interaction_id, "participant/agent"),
            customer_communication: name_based(interaction_id, "communication/customer"),
            agent_communication: name_based(interaction_id, "communication/agent"),
        }
    }

    pub fn participant(&self, role: Role) -> Uuid {
        match role {
            Role::Customer => self.customer,
            Role::Agent => self.agent,
        }
    }

    pub fn communication(&self, role: Role) -> Uuid {
        match role {
            Role::Customer => self.customer_communication,
            Role::Agent => self.agent_communication,
        }
    }

    /// The role of participant `id`, if it is one of this conversation's.
    pub fn role_of(&self, id: Uuid) -> Option<Role> {
        [Role::Customer, Role::Agent]
            .into_iter()
            .find(|r| self.participant(*r) == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::uuid;

    #[test]
    fn the_ids_are_uuid5_of_the_interaction_as_python_computes_them() {
        // uuid.uuid5(uuid.UUID("30bea275-…"), "participant/customer") and so on.
        let ids = ConversationIds::of(uuid!("30bea275-4ef3-4d56-9f3f-a8435bd996c7"));
        assert_eq!(ids.customer, uuid!("8d838596-fe4c-5666-901f-be82dc0d5526"));
        assert_eq!(ids.agent, uuid!("2bfa1c75-9183-56f5-a4e8-711dd4dbaee4"));
        assert_eq!(
            ids.customer_communication,
            uuid!("ec4a491f-5340-54c4-8803-e5310bc13021")
        );
        assert_eq!(
            ids.agent_communication,
            uuid!("06f4db6f-799b-5278-81cf-e3ac1dc0bcd1")
        );
        assert_eq!(ids.role_of(ids.agent), Some(Role::Agent));
        assert_eq!(ids.role_of(ids.agent_communication), None);
    }
}
