//! The chain's answer: which credentials a run will use, and how to turn that into keys. Apart
//! from the chain, because a profile yields a plan too and must not import the chain.

use crate::api::secret::Credentials;
use crate::credentials::metadata::EcsRole;
use crate::credentials::sts::RoleToAssume;
use crate::error::Result;

/// Which credentials a run will use, decided without any network call, so a warm cache can be
/// found (its key includes [`Plan::identity`]) before anything is fetched. [`Plan::resolve`]
/// does the network part: the metadata service for an ECS RAM role, STS for a role to assume.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Keys given directly: environment, ini, or an `AK` / `StsToken` profile.
    Static(Credentials),
    /// Temporary keys of the instance's RAM role, from the metadata service (step 4, or a
    /// profile in mode `EcsRamRole`).
    EcsRamRole(EcsRole),
    /// STS AssumeRole with the credentials of `base` (a `RamRoleArn` profile, or the role to
    /// assume of `ALICLOUD_ASSUME_ROLE_ARN` / ini `assume_role` on top of any other source).
    AssumeRole { base: Box<Plan>, role: RoleToAssume },
}

impl Plan {
    /// A stable name for the account and role in use; part of the cache key. Never a secret,
    /// never a temporary key id (those change at every run): a RAM role is named by its role
    /// name, an assumed role by its ARN on top of the base identity.
    pub fn identity(&self) -> String {
        match self {
            Plan::Static(c) => format!("key:{}", c.access_key_id),
            Plan::EcsRamRole(r) => format!("ecs-role:{}", r.name),
            Plan::AssumeRole { base, role } => {
                let policy = role
                    .policy
                    .as_deref()
                    .map(|p| format!("+policy:{:08x}", crc32fast::hash(p.as_bytes())))
                    .unwrap_or_default();
                format!("{}>assume:{}{policy}", base.identity(), role.role_arn)
            }
        }
    }

    /// Where the credentials come from, in words, for `-v`.
    pub fn source(&self) -> String {
        match self {
            Plan::Static(c) => c.source.clone(),
            Plan::EcsRamRole(r) => r.describe(),
            Plan::AssumeRole { base, role } => format!(
                "AssumeRole {} ({}) with {}",
                role.role_arn,
                role.origin,
                base.source()
            ),
        }
    }

    /// The keys to sign ECS calls with: fetched from the metadata service and STS as needed.
    pub async fn resolve(self) -> Result<Credentials> {
        // Roles to assume, outermost first; they are assumed innermost first.
        let mut roles = Vec::new();
        let mut plan = self;
        let mut creds = loop {
            match plan {
                Plan::AssumeRole { base, role } => {
                    roles.push(role);
                    plan = *base;
                }
                Plan::Static(c) => break c,
                Plan::EcsRamRole(r) => break r.fetch().await?,
            }
        };
        for role in roles.into_iter().rev() {
            creds = role.assume(&creds).await?;
        }
        Ok(creds)
    }
}
